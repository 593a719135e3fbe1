"""`iro print-batch`: the day's postal letters as one PDF and a manifest; mark a batch printed.

Output carries references, roles, codes and dates only.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workers.cli.context import app_context
from workers.cli.options import optional_date


def register(app: typer.Typer) -> None:
    batch_app = typer.Typer(
        help="Gather the day's postal letters into one PDF and a manifest; mark a batch printed.",
        invoke_without_command=True,
    )
    batch_app.callback()(print_batch)
    batch_app.command("mark-printed")(mark_printed)
    app.add_typer(batch_app, name="print-batch")


def print_batch(
    ctx: typer.Context,
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Letters due by this day, YYYY-MM-DD "
                                                  "[today].")] = None,
) -> None:
    """Build the print batch for a day (letters due by then, not yet in a batch)."""
    if ctx.invoked_subcommand is not None:
        return
    from workers.cli.mailout import config_of
    from workers.mailout.printing import build_batch

    app = app_context(ctx)
    day = optional_date(date, "--date") or app.clock.today()
    result = build_batch(app.sessions, config_of(app), day)
    if result.called_off:
        typer.echo(f"{result.called_off} reminders called off: their forms are back")
    if result.batch_id is None:
        typer.echo(f"nothing to print for {day.isoformat()}")
        return
    typer.echo(f"print batch {result.batch_id}: {result.letters} letters, {result.pages} pages")
    typer.echo(f"  PDF:      {result.pdf_path}")
    typer.echo(f"  manifest: {result.manifest_path}")
    typer.echo(f"when posted: iro print-batch mark-printed {result.batch_id}")


def mark_printed(ctx: typer.Context,
                 batch_id: Annotated[int, typer.Argument(metavar="ID",
                                                         help="The batch's number.")]) -> None:
    """Record a batch's letters as sent (printed and posted)."""
    from workers.mailout.printing import mark_printed as mark

    app = app_context(ctx)
    count = mark(app.sessions, batch_id, now=app.clock.now())
    typer.echo(f"print batch {batch_id}: {count} letters recorded as sent")
