"""`iro import reviews FILE.csv`: children, reviews and participants from the case system."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.actor import ActorOption, actor_of
from workers.cli.context import app_context

if TYPE_CHECKING:
    from rich.console import Console

import_app = typer.Typer(
    help="Import records from the case-management system.", no_args_is_help=True
)


@import_app.command("reviews")
def reviews_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV export, one row per participant per review.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Upsert children, reviews and participants (format: docs/csv-format.md).

    All or nothing: any bad row exits 2 naming its line and column, and nothing is written.
    """
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy.exc import IntegrityError

    from workers.errors import BadInputError, ConfigError
    from workers.importer.rows import ImportContext, parse_reviews_csv
    from workers.importer.upsert import upsert_plan
    from workers.store.session import current_revision, display_url, head_revision

    app = app_context(ctx)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{file}: cannot read the file ({exc.strerror})") from None
    context = ImportContext.from_config(app.rules, app.directory, app.calendar)
    plan = parse_reviews_csv(data, str(file), context)
    console = Console()
    if dry_run:
        console.print(
            f"{file}: {plan.rows} rows OK: {len(plan.children)} children, "
            f"{len(plan.reviews)} reviews, {len(plan.participants)} participants (dry run)"
        )
        _warn(console, plan.warnings)
        return
    url = app.settings.database_url
    at = current_revision(url)
    if at != head_revision():
        raise ConfigError(
            f"the store at {display_url(url)} is at revision {at or 'none'}, not "
            f"{head_revision()}: run `iro db upgrade` first"
        )
    from workers.casework.imports import after_import
    from workers.cli.mailout import config_of

    try:
        with app.sessions.begin() as session:
            summary = upsert_plan(session, plan, actor=actor_of(actor))
            casework = after_import(session, summary, config_of(app),
                                    today=app.clock.today(), now=app.clock.now(),
                                    actor=actor_of(actor))
    except IntegrityError:
        raise BadInputError(
            f"{file}: another change to the same records happened at the same time; "
            "nothing was imported: run the import again"
        ) from None
    table = Table(title=f"import of {file.name}: {plan.rows} rows")
    for column in ("", "created", "updated", "unchanged"):
        table.add_column(column, justify="left" if not column else "right")
    for label, counts in (
        ("children", summary.children),
        ("reviews", summary.reviews),
        ("participants", summary.participants),
    ):
        table.add_row(label, str(counts.created), str(counts.updated), str(counts.unchanged))
    console.print(table)
    for line in casework:  # references only: "review R-1: P-5033 removed: 2 letters cancelled"
        console.print(line, highlight=False, markup=False)
    _warn(console, plan.warnings)


def _warn(console: Console, warnings: Sequence[str]) -> None:
    for line in warnings:  # "line 7: review R-1 meets on 2027-01-09, a Saturday; check …"
        console.print(f"warning: {line}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
