"""`iro report`: the year's figures for the IRO annual report, from the store.

Counts only: children, reviews, forms and escalations, never a child's name.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.context import app_context
from workers.cli.options import check_format, check_output, parse_date
from workers.errors import BadInputError, ConfigError

if TYPE_CHECKING:
    from workers.report.tables import Table

FORMATS = ("table", "csv", "json", "docx")


def report(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", metavar="DATE", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", metavar="DATE", help="Last day, inclusive.")],
    output: Annotated[
        str, typer.Option("--format", metavar="table|csv|json|docx", help="Output format.")
    ] = "table",
    out_file: Annotated[
        Path | None,
        typer.Option("-o", "--output", metavar="FILE", help="Write here (docx needs it)."),
    ] = None,
    earlier_years: Annotated[
        int, typer.Option("--earlier-years", metavar="N",
                          help="Escalations for up to N earlier years beside this one.")
    ] = 2,
) -> None:
    """The annual report's figures for --from to --to: looked after children, reviews held and
    in timescale, reviews per IRO per month, write-up times, participation, consultation returns
    by role and escalations by the stage resolved (beside earlier years)."""
    check_format(output, FORMATS)
    if output == "docx" and out_file is None:
        raise BadInputError("--format docx: give the file to write with -o FILE")
    if not 0 <= earlier_years <= 50:
        raise BadInputError(f"--earlier-years: expected 0 to 50, got {earlier_years}")
    if out_file is not None:
        check_output(out_file)
    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    if last < first:
        raise BadInputError(f"--to {last.isoformat()} is before --from {first.isoformat()}")

    from workers.report.annual import report_for
    from workers.report.figures import Period
    from workers.report.tables import report_tables
    from workers.store.session import current_revision, display_url

    app = app_context(ctx)
    url = app.settings.database_url
    if current_revision(url) is None:
        raise ConfigError(
            f"the store at {display_url(url)} has no tables yet: run `iro db upgrade`"
        )
    rules = app.rules
    with app.sessions() as session:
        figures = report_for(session, rules, Period(first, last), earlier_years=earlier_years)
    tables = report_tables(figures, dict(rules.participation_codes))
    if output == "docx":
        from workers.report.document import render_docx

        _write(out_file, render_docx(figures, tables, app.settings.templates_dir,
                                          generated_on=app.clock.today()))
    elif output in ("csv", "json"):
        from workers.report.formats import to_csv, to_json

        text = to_csv(tables) if output == "csv" else to_json(figures, tables)
        if out_file is None:
            typer.echo(text, nl=False)
        else:
            _write(out_file, text.encode("utf-8"))
    else:
        _print(tables, out_file)


def _write(path: Path | None, data: bytes) -> None:
    assert path is not None
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise BadInputError(f"-o {path}: cannot write: {exc.strerror}") from None
    typer.echo(f"wrote {path}", err=True)


def _print(tables: list[Table], out_file: Path | None) -> None:
    from rich.console import Console

    from workers.report.formats import to_rich

    handle = None if out_file is None else out_file.open("w", encoding="utf-8")
    try:
        # wide enough off a terminal for the IRO-by-month table (an IRO and 12 months)
        console = Console(file=handle, width=None if handle is None and sys.stdout.isatty()
                          else 200)
        for table in to_rich(tables):
            console.print(table)
            console.print()
    finally:
        if handle is not None:
            handle.close()


def register(app: typer.Typer) -> None:
    app.command("report")(report)
