"""`iro print-batch`: the day's postal letters as one PDF and a manifest; mark a batch printed;
void or reprint one (also as `iro print void|reprint`, issue 16 §1).

Output carries references, roles, codes and dates only.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workers.cli.actor import ActorOption, ReasonOption, actor_of
from workers.cli.context import app_context
from workers.cli.options import optional_date


def register(app: typer.Typer) -> None:
    batch_app = typer.Typer(
        help="Gather the day's postal letters into one PDF and a manifest; mark a batch printed.",
        invoke_without_command=True,
    )
    batch_app.callback()(print_batch)
    batch_app.command("mark-printed")(mark_printed)
    batch_app.command("void")(void)
    batch_app.command("reprint")(reprint)
    app.add_typer(batch_app, name="print-batch")
    changes = typer.Typer(help="Void or reprint a print batch.", no_args_is_help=True)
    changes.command("void")(void)
    changes.command("reprint")(reprint)
    app.add_typer(changes, name="print")


def print_batch(
    ctx: typer.Context,
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Letters due by this day, YYYY-MM-DD "
                                                  "[today].")] = None,
    actor: ActorOption = None,
) -> None:
    """Build the print batch for a day (letters due by then, not yet in a batch)."""
    if ctx.invoked_subcommand is not None:
        return
    from workers.cli.mailout import config_of
    from workers.mailout.printing import build_batch

    app = app_context(ctx)
    day = optional_date(date, "--date") or app.clock.today()
    result = build_batch(app.sessions, config_of(app), day, actor=actor_of(actor))
    if result.called_off:
        typer.echo(f"{result.called_off} reminders called off: their forms are back or "
                   "their dates have passed")
    if result.batch_id is None:
        typer.echo(f"nothing to print for {day.isoformat()}")
        return
    typer.echo(f"print batch {result.batch_id}: {result.letters} letters, {result.pages} pages")
    typer.echo(f"  PDF:      {result.pdf_path}")
    typer.echo(f"  manifest: {result.manifest_path}")
    typer.echo(f"when posted: iro print-batch mark-printed {result.batch_id}")


def mark_printed(ctx: typer.Context,
                 batch_id: Annotated[int, typer.Argument(metavar="ID",
                                                         help="The batch's number.")],
                 actor: ActorOption = None) -> None:
    """Record a batch's letters as sent (printed and posted)."""
    from workers.mailout.printing import mark_printed as mark

    app = app_context(ctx)
    count = mark(app.sessions, batch_id, now=app.clock.now(), actor=actor_of(actor))
    typer.echo(f"print batch {batch_id}: {count} letters recorded as sent")


BatchArgument = Annotated[int, typer.Argument(metavar="BATCH", help="The batch's number.")]


def void(
    ctx: typer.Context,
    batch_id: BatchArgument,
    reason: ReasonOption,
    never_posted: Annotated[bool, typer.Option(
        "--never-posted", help="The batch was marked posted but its letters never went.")] = False,
    actor: ActorOption = None,
) -> None:
    """Void a batch: its letters wait for the next batch; its PDF and manifest are removed."""
    from workers.mailout.batch_changes import void as void_batch

    app = app_context(ctx)
    with app.sessions() as session:
        done = void_batch(session, batch_id, reason=reason, never_posted=never_posted,
                          now=app.clock.now(), actor=actor_of(actor))
        session.commit()
    was = " (recorded as never posted)" if done.was_posted else ""
    typer.echo(f"print batch {batch_id} voided{was}: {done.letters} letters wait for the next "
               "batch (`iro print-batch`)")


def reprint(ctx: typer.Context, batch_id: BatchArgument, actor: ActorOption = None) -> None:
    """Print a batch again: the same letters to the same addresses, in a new PDF."""
    from workers.cli.mailout import config_of
    from workers.mailout.batch_changes import reprint as reprint_batch

    app = app_context(ctx)
    done = reprint_batch(app.sessions, config_of(app), batch_id, now=app.clock.now(),
                         actor=actor_of(actor))
    typer.echo(f"print batch {batch_id} reprinted: {done.letters} letters, {done.pages} pages")
    typer.echo(f"  PDF:      {done.pdf_path}")
    typer.echo(f"  manifest: {done.manifest_path}")
