"""Who is signed in, what they may do, and the CSRF token: enforced on the server, per route.

The browser holds a signed cookie (Starlette's SessionMiddleware, itsdangerous): HttpOnly,
SameSite=Lax, Secure unless served on localhost. It carries a random session id and a random
CSRF token; who the session belongs to, and until when, lives in the store
(``workers.web.sessions``), so signing out ends it for every copy of the cookie. Every POST must
send the CSRF token back (form field ``csrf_token`` or header ``X-CSRF-Token`` for htmx) or it
is refused before anything happens.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from workers.web.accounts import ROLES, User

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_ID = "sid"


class SignInRequired(Exception):  # noqa: N818 - a signal to the handler that redirects
    """No one is signed in: the handler sends the browser to the sign-in page."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def current_user(request: Request) -> User | None:
    """The user of this request's live session (looked up once per request), else None."""
    if "user" in request.scope.get("state", {}):
        cached = request.state.user
        return cached if isinstance(cached, User) else None
    user = _lookup(request)
    request.state.user = user
    return user


def _lookup(request: Request) -> User | None:
    from workers.web import sessions
    from workers.web.context import web_context

    token = request.session.get(SESSION_ID)
    if not isinstance(token, str) or not token:
        return None
    ctx = web_context(request)
    idle = dt.timedelta(minutes=ctx.settings.web.idle_minutes)
    with ctx.sessions() as session:
        row = sessions.live(session, token, ctx.clock.now(), idle)
        user = None
        if row is not None:
            roles = frozenset(r for r in row.roles.split(",") if r in ROLES)
            user = User(row.email, roles, row.source)
        if session.dirty:  # marked as used, or ended for lying idle
            session.commit()
        return user


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (a new id and CSRF token: no fixation across
    sign-in); the caller audits."""
    from workers.web import sessions
    from workers.web.context import web_context

    ctx = web_context(request)
    with ctx.sessions() as session:
        token = sessions.start(session, user.email, user.roles, user.source,
                               hours=ctx.settings.web.session_hours, now=ctx.clock.now())
        session.commit()
    request.session.clear()
    request.session[SESSION_ID] = token
    request.state.user = user
    csrf_token(request)


def sign_out(request: Request) -> None:
    """End the session on the server (a copied cookie stops working) and in the browser."""
    from workers.web import sessions
    from workers.web.context import web_context

    token = request.session.get(SESSION_ID)
    if isinstance(token, str) and token:
        with web_context(request).sessions() as session:
            sessions.end(session, token, web_context(request).clock.now())
            session.commit()
    request.session.clear()
    request.state.user = None


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose token does not match the session's (403, nothing done)."""
    if request.method != "POST":
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(403, "The form has expired or did not come from this site. "
                                 "Go back, reload the page and try again.")


def require(*roles: str) -> Callable[[Request], Awaitable[User]]:
    """A dependency: the signed-in user, who must hold one of ``roles`` (else sign-in, or
    403)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"unknown role {unknown!r}")

    async def dependency(request: Request) -> User:
        user = await run_in_threadpool(current_user, request)
        if user is None:
            raise SignInRequired()
        if not any(user.has(role) for role in roles):
            raise HTTPException(403, "Your account does not have access to this page.")
        await check_csrf(request)
        return user

    return dependency


async def signed_in(request: Request) -> User:
    user = await run_in_threadpool(current_user, request)
    if user is None:
        raise SignInRequired()
    await check_csrf(request)
    return user
