"""`iro web` (the pages for business support, IROs and managers) and `iro users add|disable|list`.

Heavy imports (FastAPI, uvicorn, SQLAlchemy) stay inside the commands so `iro --help` stays fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.context import app_context

if TYPE_CHECKING:
    from workers.cli.context import AppContext

PASSWORD_VARIABLE = "IRO_NEW_USER_PASSWORD"


def web(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8080,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="Also send letters in this process (scheduler and worker threads, "
            "as `iro run`): the embedded default in one command.",
        ),
    ] = False,
) -> None:
    """Serve the web pages. Cookies are Secure unless --host is a loopback address."""
    import uvicorn

    from workers.store.session import upgrade
    from workers.web.app import create_app, signing_key

    app = app_context(ctx)
    settings = app.settings
    _, generated = signing_key(settings, host)  # refuses (exit 2) off loopback without a key
    if generated:
        typer.echo("IRO_WEB_SECRET_KEY is not set: cookies are signed with a key made for this "
                   f"run, which is allowed on {host} only; everyone signs in again after a "
                   "restart.", err=True)
    upgrade(settings.database_url)
    web_app = create_app(
        settings,
        rules=app.rules,
        directory=app.directory,
        calendar=app.calendar,
        sessions=app.sessions,
        clock=app.clock,
        host=host,
    )
    stop = start_sender(app) if with_worker else None
    try:
        # proxy_headers off: uvicorn would believe X-Forwarded-For from any loopback peer, so
        # anyone on the machine could forge their address past the per-address sign-in limit;
        # the app believes it only from web.trusted_proxies (workers.web.app)
        uvicorn.run(web_app, host=host, port=port, log_level="info", server_header=False,
                    proxy_headers=False)
    finally:
        if stop is not None:
            stop()


def start_sender(app: AppContext) -> Callable[[], None]:
    """Scheduler and worker threads in this process (as `iro run`); returns how to stop them."""
    from workers.cli.worker import embedded

    _, scheduler, running = embedded(app.settings, app.sessions, app.clock)
    halt = threading.Event()
    thread = threading.Thread(
        target=scheduler.run_forever,
        kwargs={"stop": halt.is_set},
        name="iro-web-scheduler",
        daemon=True,
    )
    thread.start()

    def stop() -> None:
        halt.set()
        running.stop()

    return stop


def add_user(
    ctx: typer.Context,
    email: Annotated[
        str, typer.Argument(metavar="EMAIL", help="Their work email, to sign in with.")
    ],
    role: Annotated[
        str,
        typer.Option("--role", metavar="business_support|iro|manager", help="What they may do."),
    ],
) -> None:
    """Create a local account (or reset its password and role). The password comes from
    IRO_NEW_USER_PASSWORD or a prompt, never from the command line."""
    from workers.store.session import upgrade
    from workers.web.accounts import add_user as add

    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = app_context(ctx)
    upgrade(app.settings.database_url)
    with app.sessions() as session:
        user = add(session, email, role, password, actor="cli", clock=app.clock)
        session.commit()
        typer.echo(f"account {user.email}: {user.role}")


def disable_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The account to take away.")],
) -> None:
    """Disable an account: it can no longer sign in (with a password or OIDC) and every
    session it has ends at once. `iro users add` enables it again with a new password."""
    from workers.store.session import upgrade
    from workers.web.accounts import disable_user as disable

    app = app_context(ctx)
    upgrade(app.settings.database_url)
    with app.sessions() as session:
        user, ended = disable(session, email, actor="cli", clock=app.clock)
        session.commit()
    typer.echo(f"account {user.email}: disabled; {ended} live session"
               f"{'' if ended == 1 else 's'} ended")


def list_users(ctx: typer.Context) -> None:
    """Every account: role, whether it may sign in, how, live sessions and last use."""
    from rich.console import Console
    from rich.table import Table

    from workers.store import audit
    from workers.store.session import upgrade
    from workers.web.accounts import list_users as accounts
    from workers.web.pages import london_time

    app = app_context(ctx)
    upgrade(app.settings.database_url)
    with app.sessions() as session:
        rows = accounts(session, app.clock.now())
        audit.record(session, "web_user.listed", "web_user", None, actor="cli", count=len(rows))
        session.commit()
    table = Table(title=f"Accounts ({len(rows)})")
    for name in ("email", "role", "state", "signs in with", "live sessions", "last used"):
        table.add_column(name, justify="right" if name == "live sessions" else "left")
    for row in rows:
        table.add_row(row.email, row.role, "active" if row.active else "disabled", row.sign_in,
                      str(row.live_sessions), london_time(row.last_seen))
    Console(width=160).print(table)


def register(app: typer.Typer) -> None:
    app.command("web")(web)
    users = typer.Typer(help="Local accounts for `iro web`.", no_args_is_help=True)
    users.command("add")(add_user)
    users.command("disable")(disable_user)
    users.command("list")(list_users)
    app.add_typer(users, name="users")
