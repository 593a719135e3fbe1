"""`iro mailout`, `iro print-batch` and `iro returns`: a review's letters out, its forms back.

Heavy imports stay inside the commands so `iro --help` stays fast. Output names participants by
reference and role, and children by initials: never a name or an address.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.context import AppContext, app_context

if TYPE_CHECKING:
    from workers.mailout.documents import MailoutConfig
    from workers.mailout.service import MailoutResult


def register(app: typer.Typer) -> None:
    app.command("mailout")(mailout)


def config_of(app: AppContext) -> MailoutConfig:
    from workers.mailout.documents import MailoutConfig

    return MailoutConfig(app.rules, app.directory, app.calendar, app.settings, clock=app.clock)


def mailout(
    ctx: typer.Context,
    review_ref: Annotated[
        str, typer.Argument(metavar="REVIEW_REF", help="The review's reference.")
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check and write the documents for a look; send nothing."),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Folder for --dry-run documents [var/mailout-preview]."
        ),
    ] = None,
) -> None:
    """Queue a review's invitations, consultation forms and reminders, after checking them all."""
    from workers.mailout.service import run_mailout

    app = app_context(ctx)
    folder = None
    if dry_run:
        folder = out or app.settings.documents_dir.parent / "mailout-preview"
    result = run_mailout(app.sessions, config_of(app), review_ref, dry_run_dir=folder)
    print_table(result, dry_run=dry_run)


def print_table(result: MailoutResult, *, dry_run: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    title = f"Mail-out for review {result.review_ref} ({result.child_initials})"
    table = Table(title=title)
    for column in ("participant", "role", "channel", "documents", "form code", "reminders"):
        table.add_column(column)
    reminders: dict[int, list[str]] = {}
    for r in result.plan.reminders:
        reminders.setdefault(r.participant_id, []).append(r.on.isoformat())
    for letter in result.plan.letters:
        docs = "invitation" + (f" + {letter.form} + return instructions" if letter.form else "")
        table.add_row(
            letter.participant_ref,
            letter.role,
            letter.channel,
            docs,
            result.codes.get(letter.key) or "",
            ", ".join(reminders.get(letter.participant_id, [])),
        )
    console = Console()
    console.print(table)
    for ref, why in result.plan.skipped:
        console.print(f"participant {ref}: {why}")
    if result.dates is not None:
        by_post = any(letter.channel == "post" for letter in result.plan.letters)
        console.print("dates used: " + result.dates.describe(
            by_post=by_post, bring_to_meeting=bool(result.bring_to_meeting)))
    else:
        console.print(f"forms back by {result.plan.return_by.isoformat()}")
    if dry_run:
        folder = result.written[0].parent if result.written else None
        console.print(
            f"dry run: nothing sent; {len(result.written)} documents written"
            + (f" to {folder}" if folder else "")
        )
    elif result.created:
        console.print(f"{result.created} dispatches queued")
    else:
        console.print("already queued: nothing new (a mail-out never sends twice)")
