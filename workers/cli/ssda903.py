"""`iro import 903 FOLDER_OR_FILES…` and `iro export 903-reviews --year 2026-27 -o FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workers.cli.context import app_context
from workers.errors import BadInputError

export_app = typer.Typer(help="Write the service's records in other systems' formats.",
                         no_args_is_help=True)
MAX_FILE = 200 * 1024 * 1024  # a 903 table of a large council is a few MB


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir()
                            if p.suffix.lower() in (".csv", ".xml") and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise BadInputError(f"{path}: no such file or folder")
    if not found:
        raise BadInputError("no .csv or .xml files among " + ", ".join(map(str, paths)))
    return found


def import_903(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(
        metavar="FOLDER_OR_FILES...",
        help="The 903 Header, Episodes and Reviews CSV files (or a folder of them), or the XML.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every file and rule; write nothing.")
    ] = False,
) -> None:
    """Children, periods of care and past reviews from the SSDA903 return (docs/csv-format.md).

    Tables are recognised by their columns. All or nothing: a broken rule (166, 167, 440, 441,
    INT08, INT17) or field exits 2 naming file, line and rule, and nothing is written."""
    from rich.console import Console
    from rich.progress import Progress

    from workers.ssda903.plan import build
    from workers.ssda903.read import read_files
    from workers.ssda903.upsert import upsert_extract

    app = app_context(ctx)
    tables = read_files(_files(paths), MAX_FILE)
    extract = build(tables, app.rules.review_timescales, app.calendar)
    console = Console(stderr=True)
    if dry_run:
        console.print(f"{extract.rows} rows OK: {len(extract.children)} children tracked, "
                      f"{len(extract.short_breaks_only)} short breaks only (dry run)")
        return
    require_head(app.settings.database_url)
    with Progress(console=console, transient=True,
                  disable=len(extract.children) < 200) as bar, app.sessions.begin() as session:
        task = bar.add_task("importing children", total=len(extract.children))
        summary = upsert_extract(session, extract, app.rules.review_timescales, app.calendar,
                                 progress=lambda n: bar.advance(task, n))
    from rich.table import Table

    table = Table(title=f"903 import: {summary.rows} rows; children with short breaks only, "
                        f"not tracked: {summary.short_breaks_only}")
    for column in ("", "added", "changed", "unchanged"):
        table.add_column(column, justify="left" if not column else "right")
    for label, counts in (("children", summary.children), ("periods of care", summary.periods),
                          ("reviews", summary.reviews), ("next due dates", summary.next_due)):
        table.add_row(label, str(counts.created), str(counts.updated), str(counts.unchanged))
    Console().print(table)


@export_app.command("903-reviews")
def export_reviews(
    ctx: typer.Context,
    year: Annotated[str, typer.Option("--year", metavar="YYYY-YY",
                                      help="Collection year, 1 April to 31 March: 2026-27.")],
    out: Annotated[Path, typer.Option("-o", "--output", metavar="FILE",
                                      help="The REVIEWS CSV to write.")],
) -> None:
    """The 903 REVIEWS table (CHILD,DOB,REVIEW,REVIEW_CODE) from the reviews held in --year,
    checked with the import's rules first; nothing is written if one fails (exit 2)."""
    from workers.cli.options import check_output
    from workers.host.private_files import open_private
    from workers.ssda903.export import review_rows, to_csv, year_bounds

    start, end = year_bounds(year)
    check_output(out)
    app = app_context(ctx)
    require_head(app.settings.database_url)
    with app.sessions() as session:
        rows = review_rows(session, start, end)
    text = to_csv(rows, str(out))
    with open_private(out, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    typer.echo(f"wrote {out}: {len(rows)} reviews held {start:%d/%m/%Y} to {end:%d/%m/%Y}",
               err=True)


def require_head(url: str) -> None:
    from workers.errors import ConfigError
    from workers.store.session import current_revision, display_url, head_revision

    at = current_revision(url)
    if at != head_revision():
        raise ConfigError(f"the store at {display_url(url)} is at revision {at or 'none'}, not "
                          f"{head_revision()}: run `iro db upgrade` first")


def register(app: typer.Typer) -> None:
    from workers.cli.imports import import_app

    import_app.command("903")(import_903)
    app.add_typer(export_app, name="export")
