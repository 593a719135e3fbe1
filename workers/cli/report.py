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
    from workers.report.table import Table

FORMATS = ("table", "csv", "json", "docx")
FormatOption = Annotated[
    str, typer.Option("--format", metavar="table|csv|json|docx", help="Output format.")
]
OutputOption = Annotated[
    Path | None, typer.Option("-o", "--output", metavar="FILE", help="Write here (docx needs it).")
]


report_app = typer.Typer(
    invoke_without_command=True,
    help="The year's figures for the annual report (--from/--to), or `iro report quarterly`.",
)


@report_app.callback()
def report(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="First day (YYYY-MM-DD).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="Last day, inclusive.")
    ] = None,
    output: FormatOption = "table",
    out_file: OutputOption = None,
    earlier_years: Annotated[
        int, typer.Option("--earlier-years", metavar="N",
                          help="Escalations for up to N earlier years beside this one.")
    ] = 2,
) -> None:
    """The annual report's figures for --from to --to: looked after children, reviews held and
    in timescale, reviews per IRO per month, write-up times, participation, consultation returns
    by role and escalations by the stage resolved (beside earlier years); Appendix A (survey
    return rates and answer counts by role) when `iro survey` started one in the period.

    `iro report quarterly --quarter 2026-Q3` gives the quarter's escalations instead."""
    if ctx.invoked_subcommand is not None:
        return
    if start is None or end is None:
        raise BadInputError(
            "iro report: give the period with --from DATE --to DATE (e.g. --from 2026-04-01 "
            "--to 2027-03-31), or run `iro report quarterly --quarter 2026-Q3`"
        )
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

    app = app_context(ctx)
    _require_tables(app.settings.database_url)
    rules = app.rules
    with app.sessions() as session:
        figures = report_for(session, rules, Period(first, last), earlier_years=earlier_years,
                             today=app.clock.today())
    names = app.directory.iro_names()
    tables = report_tables(figures, dict(rules.participation_codes), names)
    if output == "docx":
        from workers.report.document import render_docx

        _write(out_file, render_docx(figures, tables, app.settings.templates_dir,
                                     generated_on=app.clock.today(), iro_names=names))
    elif output in ("csv", "json"):
        from workers.report.formats import to_csv, to_json

        _emit(to_csv(tables) if output == "csv" else to_json(figures, tables), out_file)
    else:
        _print(tables, out_file)


@report_app.command("quarterly")
def quarterly(
    ctx: typer.Context,
    quarter: Annotated[str, typer.Option(
        "--quarter", metavar="YYYY-QN",
        help="A quarter of the reporting year that starts on 1 April YYYY: 2026-Q3 is October "
             "to December 2026, 2026-Q4 January to March 2027.")],
    output: FormatOption = "table",
    out_file: OutputOption = None,
) -> None:
    """The quarter's escalations and midway checks for the senior management team (annual
    report §8.1): escalations raised, resolved by stage, open and past the 20-working-day ceiling,
    themes by concern and a few examples; midway checks due, done and finding concerns; beside
    the quarter before. Counts and categories only: no child is named."""
    check_format(output, FORMATS)
    if output == "docx" and out_file is None:
        raise BadInputError("--format docx: give the file to write with -o FILE")
    from workers.escalation.policy import Policy
    from workers.report.quarterly import (
        Quarter,
        examples,
        figures,
        midway_figures,
        midway_table,
        tables,
    )
    from workers.report.quarterly_source import escalation_facts, midway_facts

    wanted = Quarter.parse(quarter)
    app = app_context(ctx)
    _require_tables(app.settings.database_url)
    rules = app.rules.escalation
    policy = Policy.from_rules(rules, app.calendar)
    with app.sessions() as session:
        facts = escalation_facts(session, policy, wanted.previous, wanted)
        checks = midway_facts(session, wanted.previous, wanted)
    first_stage = rules.stages[0].key
    this, before = figures(facts, wanted, first_stage), figures(facts, wanted.previous, first_stage)
    result = tables(this, before, examples(facts, wanted),
                    stages=[(s.key, s.title) for s in rules.stages],
                    categories={c.key: c.title for c in rules.categories},
                    ceiling_days=_offset_days(str(rules.total_ceiling)))
    midway, midway_before = midway_figures(checks, wanted), midway_figures(checks, wanted.previous)
    result.append(midway_table(midway, midway_before))
    title = f"IRO escalations and midway monitoring: {wanted.long_label}"
    if output == "docx":
        from workers.report.document import render_tables_docx

        _write(out_file, render_tables_docx(title, wanted.period, result,
                                            app.settings.templates_dir,
                                            generated_on=app.clock.today()))
    elif output == "json":
        import dataclasses
        import json

        doc = {"quarter": wanted.label, "start": wanted.period.start.isoformat(),
               "end": wanted.period.end.isoformat(), "figures": dataclasses.asdict(this),
               "previous": dataclasses.asdict(before), "midway": dataclasses.asdict(midway),
               "midway_previous": dataclasses.asdict(midway_before),
               "tables": [dataclasses.asdict(t) for t in result]}
        _emit(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", out_file)
    elif output == "csv":
        from workers.report.formats import to_csv

        _emit(to_csv(result), out_file)
    else:
        typer.echo(title)
        _print(result, out_file)


def _offset_days(offset: str) -> str:
    """'20 working days after raised' -> '20 working days'."""
    return offset.split(" after ")[0].split(" before ")[0]


def _require_tables(url: str) -> None:
    from workers.store.session import current_revision, display_url

    if current_revision(url) is None:
        raise ConfigError(
            f"the store at {display_url(url)} has no tables yet: run `iro db upgrade`"
        )


def _emit(text: str, out_file: Path | None) -> None:
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        _write(out_file, text.encode("utf-8"))


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
    app.add_typer(report_app, name="report")
