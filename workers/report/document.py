"""The report as a Word document: the annual_report template filled with the tables and charts.

The project's DocumentEngine does not place images, so this uses docxtpl itself, with the same
sandboxed, autoescaping, StrictUndefined environment (an ``&`` in a role or IRO address must not
truncate the document), and InlineImage for the matplotlib charts.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from workers.errors import TemplateError
from workers.report import charts
from workers.report.figures import AnnualReport, Period
from workers.report.table import Table
from workers.report.tables import show

# In a sub-folder: `iro templates check` validates the letter kinds at the top level only, and
# this is no letter (its fields are the report's tables, not a case's).
TEMPLATE = "reports/annual_report.docx"
CHART_WIDTH_MM = 220
Draw = Callable[[AnnualReport, Mapping[str, str]], bytes]  # the report, IRO names → PNG
CHARTS: dict[str, tuple[Draw, str]] = {
    "reviews_by_month": (lambda report, names: charts.reviews_per_iro_month(report, names),
                         "Figure: reviews held per IRO per month"),
    "escalations": (lambda report, _names: charts.escalations_by_stage(report),
                    "Figure: escalations by the stage at which they were resolved"),
}


def render_docx(
    report: AnnualReport,
    tables: Sequence[Table],
    templates_dir: Path,
    *,
    generated_on: dt.date,
    iro_names: Mapping[str, str] | None = None,
) -> bytes:
    """The annual report's bytes, with its charts. Raises TemplateError if it will not fill."""
    charts_by_key: dict[str, tuple[bytes, str]] = {}
    for table in tables:
        chart = CHARTS.get(table.key)
        if chart and any(isinstance(c, int | float) and c for row in table.rows for c in row[1:]):
            draw, caption = chart
            charts_by_key[table.key] = (draw(report, iro_names or {}), caption)
    return render_tables_docx(
        f"Independent Reviewing Officer service: figures for {report.period.label}",
        report.period, tables, templates_dir, generated_on=generated_on, charts=charts_by_key,
    )


def render_tables_docx(
    title: str,
    period: Period,
    tables: Sequence[Table],
    templates_dir: Path,
    *,
    generated_on: dt.date,
    charts: Mapping[str, tuple[bytes, str]] | None = None,
) -> bytes:
    """Any report's tables in the report template: a title, the period, then each table with
    its chart (PNG bytes and caption, by table key) where it has one."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import TemplateError as JinjaError

    from workers.documents.environment import make_environment

    path = templates_dir / TEMPLATE
    if not path.is_file():
        raise TemplateError(
            f"{path}: the report template is missing; run scripts/build_report_template.py"
        )
    tpl = DocxTemplate(str(path))
    rows: list[dict[str, Any]] = []
    for table in tables:
        image, caption = None, ""
        if charts and table.key in charts:
            png, caption = charts[table.key]
            image = InlineImage(tpl, io.BytesIO(png), width=Mm(CHART_WIDTH_MM))
        rows.append({
            "title": table.title,
            "headers": list(table.headers),
            "rows": [[show(c) for c in row] for row in table.rows],
            "note": table.note,
            "chart": image,
            "chart_caption": caption,
        })
    context = {
        "title": title,
        "period": {"label": period.label, "start": period.start.strftime("%d %B %Y"),
                   "end": period.end.strftime("%d %B %Y")},
        "generated_on": generated_on.strftime("%d %B %Y"),
        "tables": rows,
    }
    try:
        tpl.render(context, jinja_env=make_environment(), autoescape=True)
    except JinjaError as exc:
        raise TemplateError(f"{TEMPLATE}: {type(exc).__name__}: {exc}") from exc
    _fit_columns(tpl.docx)
    _words_left(tpl.docx)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _words_left(doc: Any) -> None:
    """Figures stay right-aligned (the template's figure column); a column of words reads from
    the left, as the quarterly report's examples do."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    for table in doc.tables:
        for row in table.rows[1:]:
            for cell in row.cells[1:]:
                text = cell.text.strip().rstrip("%")
                if text and text != "–" and not text.replace(".", "", 1).isdigit():
                    for paragraph in cell.paragraphs:
                        paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT


def _fit_columns(doc: Any) -> None:
    """A wide label column and equal figure columns, however many figure columns a table grew
    (docxtpl's own fix scales the template's columns unevenly). Set in both the grid (LibreOffice
    reads it) and every cell (Word reads those)."""
    from docx.shared import Mm

    section = doc.sections[0]
    usable = (section.page_width - section.left_margin - section.right_margin) / Mm(1)
    for table in doc.tables:
        columns = len(table.columns)
        label = usable * (0.65 if columns <= 3 else 0.4 if columns <= 5 else 0.25)
        label = min(label, 60.0 if columns <= 10 else 42.0) if columns > 5 else label
        # each figure column by its longest word, so a year by month's "Average a month" is
        # never broken mid-word while "Apr 2025" needs only four characters' room
        longest = [max((len(word) for row in table.rows for word in row.cells[i].text.split()),
                       default=1) for i in range(1, columns)]
        unit = (usable - label) / max(sum(max(n, 4) for n in longest), 1)
        widths = [label] + [unit * max(n, 4) for n in longest]
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Mm(width)
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = Mm(width)
