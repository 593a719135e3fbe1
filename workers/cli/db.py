"""`iro db`: the tracking store's migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from workers.cli.context import app_context

db_app = typer.Typer(
    help="The tracking store: apply migrations, show the revision.", no_args_is_help=True
)


@db_app.command("upgrade")
def upgrade_command(
    ctx: typer.Context,
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="Revision to migrate to.")
    ] = "head",
) -> None:
    """Apply the store's migrations (creates the SQLite file and its folder if needed)."""
    from workers.store.session import current_revision, display_url, upgrade

    app = app_context(ctx)
    url = app.settings.database_url
    upgrade(url, revision)
    typer.echo(f"database {display_url(url)} is at revision {current_revision(url)}")
    if revision == "head":
        from workers.store.next_review import refresh

        # the stored next reviews the lists sort by, worked out now rather than by the first
        # page anyone opens
        with app.sessions() as session:
            done = refresh(session, app.calendar, app.rules.review_timescales)
            session.commit()
        if done:
            typer.echo(f"next review dates worked out for {done} children")


@db_app.command("current")
def current_command(ctx: typer.Context) -> None:
    """Print the store's revision and the newest one this version ships."""
    from workers.store.session import current_revision, display_url, head_revision

    url = app_context(ctx).settings.database_url
    current = current_revision(url) or "none (run `iro db upgrade`)"
    typer.echo(f"database {display_url(url)} is at revision {current}; newest {head_revision()}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
