"""`iro calendar`: count working days the way the service does (bank holidays and closures)."""

from __future__ import annotations

from typing import Annotated

import typer

from workers.cli.context import app_context
from workers.cli.options import MAX_WORKING_DAYS, parse_date, parse_int

STATUTORY_HELP = (
    "Count statutory working days (reg 33: weekends and bank holidays only), "
    "ignoring the council's closure days."
)


def add(
    ctx: typer.Context,
    date: Annotated[str, typer.Argument(metavar="DATE", help="Start date, YYYY-MM-DD.")],
    n: Annotated[
        str, typer.Argument(metavar="N", help="Working days to add; negative counts back.")
    ],
    statutory: Annotated[bool, typer.Option("--statutory", help=STATUTORY_HELP)] = False,
) -> None:
    """Print the date N working days after DATE (before it when N is negative)."""
    start = parse_date(date, "DATE")
    count = parse_int(n, "N", -MAX_WORKING_DAYS, MAX_WORKING_DAYS)
    typer.echo(app_context(ctx).calendar.add(start, count, statutory).isoformat())


def between(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(metavar="A", help="From date, YYYY-MM-DD (not counted).")],
    b: Annotated[str, typer.Argument(metavar="B", help="To date, YYYY-MM-DD (counted).")],
    statutory: Annotated[bool, typer.Option("--statutory", help=STATUTORY_HELP)] = False,
) -> None:
    """Print the number of working days after A up to and including B (negative if B < A)."""
    first, last = parse_date(a, "A"), parse_date(b, "B")
    typer.echo(str(app_context(ctx).calendar.between(first, last, statutory)))


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Working-day arithmetic: England and Wales bank holidays and local closure days.",
        no_args_is_help=True,
    )
    # A negative N ("-3") must reach the command as a number, not be taken for an option.
    allow_negative = {"ignore_unknown_options": True}
    group.command("add", context_settings=allow_negative)(add)
    group.command("between", context_settings=allow_negative)(between)
    app.add_typer(group, name="calendar")
