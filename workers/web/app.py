"""The web application: ``create_app(settings, ...)`` wires sessions, pages and error pages.

Every route checks the signed-in user's role on the server (``security.require``) and every POST
its CSRF token. Errors from the services become a page with their one-line message (they carry
references, never names); every error, an unexpected one too (its traceback logged), is a page
in the layout with the security headers (``workers.web.errorpages``).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import (
    ConfigError,
)
from workers.web.context import WebContext
from workers.web.security import current_user

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from workers.config.directory import Directory
    from workers.config.rules import Rules
    from workers.config.settings import Settings
    from workers.core.workcalendar import WorkingCalendar

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SESSION_COOKIE = "iro_session"


def create_app(
    settings: Settings,
    *,
    rules: Rules | None = None,
    directory: Directory | None = None,
    calendar: WorkingCalendar | None = None,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    host: str = "127.0.0.1",
    pdf: bool = True,
) -> FastAPI:
    """The app over the store and config in ``settings`` (each part may be given, for tests)."""
    from workers.config.directory import load_directory
    from workers.config.rules import load_rules
    from workers.core.workcalendar import WorkingCalendar
    from workers.store.session import open_store
    from workers.web import (
        admin,
        auth,
        date_corrections,
        iro,
        iro_midway,
        letters,
        mailouts_due,
        manager,
        manager_qa,
        oidc,
        print_changes,
        review_events,
        review_replies,
        support_casework,
        support_ops,
        support_returns,
        support_reviews,
        survey,
    )

    rules = rules or load_rules(settings.config_dir / "rules.yaml")
    context = WebContext(
        settings=settings,
        rules=rules,
        directory=directory or load_directory(settings.config_dir / "directory.yaml"),
        calendar=calendar or WorkingCalendar.from_rules(rules.calendar),
        sessions=sessions or open_store(settings.database_url),
        clock=clock,
        pdf=pdf,
    )
    app = FastAPI(title="IRO service", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = context
    app.state.oidc = oidc.client_from_settings(settings)
    secure = settings.web.secure_cookies
    if secure is None:
        secure = host not in LOOPBACK
    key, generated = signing_key(settings, host)
    if generated:
        log.info("IRO_WEB_SECRET_KEY is not set: cookies are signed with a key made for this "
                    "run (on %s only); everyone signs in again after a restart", host)
    from workers.web import errorpages

    # the last added is the outermost: the body limit inside the session (its page needs it)
    app.middleware("http")(errorpages.body_limit)
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.web.session_hours * 3600,
        same_site="lax",
        https_only=secure,
    )
    app.middleware("http")(errorpages.security_headers)
    app.add_middleware(errorpages.HeadAsGet)
    trusted = settings.web.trusted_proxies
    if trusted:  # outermost, so every part sees the client's address
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, support_reviews, support_ops, support_casework, support_returns,
                   print_changes, date_corrections, mailouts_due, letters, iro, iro_midway,
                   review_replies, review_events, manager, manager_qa, survey, admin):
        app.include_router(module.router)
    errorpages.install(app)
    survey.redact_access_log()

    @app.get("/")
    def home(request: Request) -> Response:
        user = current_user(request)
        return RedirectResponse(user.home if user else "/sign-in", status_code=303)

    return app


MIN_KEY_LENGTH = 32


def signing_key(settings: Settings, host: str) -> tuple[str, bool]:
    """The cookie-signing key and whether it was made up for this run.

    Only a server on a loopback address (the embedded default, one person's machine) may go
    without IRO_WEB_SECRET_KEY: anywhere else a key made per start would sign everyone out at
    every restart and differ between processes behind a load balancer, so it refuses to start.
    """
    key = settings.web.secret_key
    if key is not None:
        value = key.get_secret_value()
        if len(value) < MIN_KEY_LENGTH:
            raise ConfigError(f"IRO_WEB_SECRET_KEY is too short ({len(value)} characters): use "
                              f"at least {MIN_KEY_LENGTH} random characters, e.g. the output "
                              "of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
        return value, False
    if host not in LOOPBACK:
        raise ConfigError(f"IRO_WEB_SECRET_KEY is not set: `iro web --host {host}` serves other "
                          "machines and needs a fixed key to sign its cookies; set it in the "
                          "service's environment to at least 32 random characters (e.g. "
                          "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
    return secrets.token_urlsafe(32), True
