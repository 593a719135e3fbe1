"""Build templates_docx/reports/annual_report.docx, the Word template of `iro report --format docx`.

Run ``.venv/bin/python scripts/build_report_template.py [OUT_DIR]`` after changing the wording
here; commit both. The template is ordinary Word with the house styles, so the IRO manager can
change headings and wording in Word. Every table of the report comes through one loop: a heading,
a table whose first column holds the row's label and whose figure columns repeat (``{%tc %}``),
a note, and the table's chart if it has one (``{{ t.chart }}``, a docxtpl InlineImage).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docx.document import Document as DocxDocument  # noqa: E402
from docx.enum.section import WD_ORIENT  # noqa: E402
from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: E402
from docx.shared import Mm  # noqa: E402
from templatebuild.blocks import para, tag  # noqa: E402
from templatebuild.layout import new_document, repeat_header, set_widths, shade  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NAME = "annual_report"


def _cell(cell: object, text: str, style: str, right: bool = False) -> None:
    p = cell.paragraphs[0]  # type: ignore[attr-defined]
    p.style = style
    p.text = text
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def annual_report() -> DocxDocument:
    doc = new_document(reference="", letterhead=False)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin = Mm(20)
    doc.add_paragraph("{{ title }}", style="Title")
    para(doc, "From {{ period.start }} to {{ period.end }}, computed from the service's records "
              "on {{ generated_on }}. The figures count children, reviews and forms; no child "
              "is named. Paste the tables and charts into the annual report.")
    tag(doc, "for t in tables")
    doc.add_paragraph("{{ t.title }}", style="Heading 2")
    table = doc.add_table(rows=2, cols=4)
    table.style = "Table Grid"
    head, body = table.rows
    _cell(head.cells[0], "{{ t.headers[0] }}", "Table Heading")
    _cell(head.cells[1], "{%tc for h in t.headers[1:] %}", "Table Heading")
    _cell(head.cells[2], "{{ h }}", "Table Heading", right=True)
    _cell(head.cells[3], "{%tc endfor %}", "Table Heading")
    for cell in head.cells:
        shade(cell)
    repeat_header(head)
    _cell(body.cells[0], "{%tr for row in t.rows %}", "Table Text")
    extra = table.add_row()
    _cell(extra.cells[0], "{{ row[0] }}", "Table Text")
    _cell(extra.cells[1], "{%tc for c in row[1:] %}", "Table Text")
    _cell(extra.cells[2], "{{ c }}", "Table Text", right=True)
    _cell(extra.cells[3], "{%tc endfor %}", "Table Text")
    end = table.add_row()
    _cell(end.cells[0], "{%tr endfor %}", "Table Text")
    set_widths(table, (90, 60, 60, 47))
    tag(doc, "if t.note")
    para(doc, "{{ t.note }}", "Small Print")
    tag(doc, "endif")
    tag(doc, "if t.chart")
    doc.add_paragraph("{{ t.chart }}")
    para(doc, "{{ t.chart_caption }}", "Small Print")
    tag(doc, "endif")
    tag(doc, "endfor")
    return doc


def main(argv: list[str]) -> int:
    from build_templates import _stable

    out = Path(argv[1]) if len(argv) > 1 else ROOT / "templates_docx" / "reports"
    out.mkdir(parents=True, exist_ok=True)
    doc = annual_report()
    doc.core_properties.title = "IRO annual report figures"
    doc.core_properties.author = "IRO service"
    path = out / f"{NAME}.docx"
    doc.save(str(path))
    _stable(path)
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
