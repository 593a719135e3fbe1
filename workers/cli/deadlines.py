"""`iro deadlines`: each child's next statutory review and every open deadline, by date.

Children appear by reference and initials only, never by name: tables get screenshotted and
CSV files get emailed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workers.cli.context import app_context
from workers.cli.options import check_format, check_iro, parse_date
from workers.errors import BadInputError, ConfigError

if TYPE_CHECKING:
    from workers.store.deadline_queries import DueItem

FORMATS = ("table", "csv", "json")
FIELDS = (
    "due_on",
    "working_days_left",
    "overdue",
    "kind",
    "statutory",
    "child_ref",
    "initials",
    "review_ref",
    "escalation_id",
    "iro_email",
    "planned",
)


def deadlines(
    ctx: typer.Context,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only what is past its date.")] = False,
    due_within: Annotated[
        int | None,
        typer.Option(
            "--due-within",
            metavar="N",
            help="Only what is due within N working days (overdue items included).",
        ),
    ] = None,
    iro: Annotated[
        str | None, typer.Option("--iro", metavar="EMAIL", help="Only this IRO's children.")
    ] = None,
    output: Annotated[
        str, typer.Option("--format", metavar="table|csv|json", help="Output format.")
    ] = "table",
    on: Annotated[
        str | None,
        typer.Option("--on", metavar="DATE", help="Count from this date instead of today."),
    ] = None,
) -> None:
    """List each child's next statutory review date and every open deadline, with working days
    left (statutory days for review dates, internal days for the rest; negative = overdue)."""
    check_format(output, FORMATS)
    if due_within is not None and due_within < 0:
        raise BadInputError(f"--due-within: expected 0 or more working days, got {due_within}")
    from workers.store.deadline_queries import due_items
    from workers.store.session import current_revision, display_url

    app = app_context(ctx)
    today = parse_date(on, "--on") if on is not None else app.clock.today()
    check_iro(app.directory, iro, app.config_dir)
    url = app.settings.database_url
    if current_revision(url) is None:
        raise ConfigError(
            f"the store at {display_url(url)} has no tables yet: run `iro db upgrade`"
        )
    with app.sessions() as session:
        items = due_items(
            session,
            app.calendar,
            app.rules.review_timescales,
            today=today,
            overdue_only=overdue,
            due_within=due_within,
            iro_email=iro,
        )
    if output == "json":
        typer.echo(json.dumps({"as_of": today.isoformat(), "items": [_record(i) for i in items]}))
    elif output == "csv":
        typer.echo(_csv(items), nl=False)
    else:
        _table(items, today)




def _record(item: DueItem) -> dict[str, Any]:
    record = {name: getattr(item, name) for name in FIELDS}
    record["due_on"] = item.due_on.isoformat()
    return record


def _csv(items: Sequence[DueItem]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(_record(item))
    return buffer.getvalue()


def _table(items: Sequence[DueItem], today: dt.date) -> None:
    from rich.console import Console, JustifyMethod
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 140)
    if not items:
        console.print(f"Nothing due (as of {today.isoformat()}).")
        return
    table = Table(title=f"Deadlines as of {today.isoformat()}", title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("Due", "left"),
        ("Working days left", "right"),
        ("What", "left"),
        ("Child", "left"),
        ("Initials", "left"),
        ("Review", "left"),
        ("IRO", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=True)
    for item in items:
        notes = ["statutory"] if item.statutory else []
        if item.escalation_id is not None:
            notes.append(f"escalation {item.escalation_id}")
        if item.kind == "review_due" and not item.planned:
            notes.append("not yet planned")
        label = "midway check" if item.kind == "midway" else item.kind.replace("_", " ")
        what = label + (f" ({', '.join(notes)})" if notes else "")
        table.add_row(
            item.due_on.isoformat(),
            str(item.working_days_left),
            what,
            item.child_ref,
            item.initials,
            item.review_ref or "",
            item.iro_email,
            style="red" if item.overdue else None,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("deadlines")(deadlines)
