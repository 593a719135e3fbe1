"""The report as a Word document: the annual_report template filled with the tables and charts.

The project's DocumentEngine does not place images, so this uses docxtpl itself, with the same
sandboxed, autoescaping, StrictUndefined environment (an ``&`` in a role or IRO address must not
truncate the document), and InlineImage for the matplotlib charts.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workers.errors import TemplateError
from workers.report import charts
from workers.report.figures import AnnualReport
from workers.report.tables import Table, show

# In a sub-folder: `iro templates check` validates the letter kinds at the top level only, and
# this is no letter (its fields are the report's tables, not a case's).
TEMPLATE = "reports/annual_report.docx"
CHART_WIDTH_MM = 220
CHARTS = {
    "reviews_by_month": (charts.reviews_per_iro_month,
                         "Figure: reviews held per IRO per month"),
    "escalations": (charts.escalations_by_stage,
                    "Figure: escalations by the stage at which they were resolved"),
}


def render_docx(
    report: AnnualReport,
    tables: Sequence[Table],
    templates_dir: Path,
    *,
    generated_on: dt.date,
) -> bytes:
    """The filled document's bytes. Raises TemplateError naming the template if it will not fill."""
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
        chart = CHARTS.get(table.key)
        image = caption = None
        if chart and any(isinstance(c, int | float) and c for row in table.rows for c in row[1:]):
            image = InlineImage(tpl, io.BytesIO(chart[0](report)), width=Mm(CHART_WIDTH_MM))
            caption = chart[1]
        rows.append({
            "title": table.title,
            "headers": list(table.headers),
            "rows": [[show(c) for c in row] for row in table.rows],
            "note": table.note,
            "chart": image,
            "chart_caption": caption or "",
        })
    context = {
        "period": {"label": report.period.label, "start": report.period.start.strftime("%d %B %Y"),
                   "end": report.period.end.strftime("%d %B %Y")},
        "generated_on": generated_on.strftime("%d %B %Y"),
        "tables": rows,
    }
    try:
        tpl.render(context, jinja_env=make_environment(), autoescape=True)
    except JinjaError as exc:
        raise TemplateError(f"{TEMPLATE}: {type(exc).__name__}: {exc}") from exc
    _fit_columns(tpl.docx)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


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
        label = min(label, 60.0) if columns > 5 else label
        rest = (usable - label) / max(columns - 1, 1)
        widths = [label] + [rest] * (columns - 1)
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Mm(width)
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = Mm(width)
