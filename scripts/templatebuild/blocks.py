"""Paragraphs, conditional blocks, table loops and writing boxes for the templates."""

from __future__ import annotations

from collections.abc import Sequence

from docx.document import Document as DocxDocument
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.shared import Mm, Pt

from templatebuild.layout import repeat_header, set_widths, shade

# The form's code as printed: never split across lines (a code broken at its dash is misread).
CODE = "{{ form.reference_code|nobreak }}"
TEXT_WIDTH_MM = 170  # A4 less the 20 mm margins
# The child as an adult's letter names them: by given name to their carers (who know the child
# by it, and whose letters go to a family home), in full to anyone else.
CHILD_NAME = ("{% if recipient.role == 'carer' %}{{ child.given_name }}{% else %}"
              "{{ child.full_name }}{% endif %}")
# When the form is wanted: its date, or the meeting where a letter is too late for the date
# (rules.yaml mailout.late_return: bring_to_meeting).
BRING = "form.bring_to_meeting"


def if_late(late: str, on_time: str) -> str:
    """``late`` where the form is asked for at the meeting, ``on_time`` otherwise."""
    return "{% if " + BRING + " %}" + late + "{% else %}" + on_time + "{% endif %}"


BACK_BY = if_late("the meeting (please bring it with you)", "{{ form.return_by|uk_date }}")


def para(doc: DocxDocument, text: str, style: str | None = None, *, bold_lead: str = "") -> None:
    """A paragraph; ``bold_lead`` is printed in bold before the text."""
    p = doc.add_paragraph(style=style)
    if bold_lead:
        p.add_run(bold_lead).bold = True
    p.add_run(text)


def tag(doc: DocxDocument, statement: str) -> None:
    """A paragraph holding only a docxtpl paragraph tag: ``{%p if … %}``; removed when filled."""
    doc.add_paragraph(f"{{%p {statement} %}}")


def when(doc: DocxDocument, condition: str, paragraphs: Sequence[str]) -> None:
    tag(doc, f"if {condition}")
    for text in paragraphs:
        para(doc, text)
    tag(doc, "endif")


def by_role(
    doc: DocxDocument, wording: dict[str, Sequence[str]], var: str = "recipient.role"
) -> None:
    """One block of paragraphs per recipient role; the key ``else`` catches the rest."""
    first = True
    for role, paragraphs in wording.items():
        if role == "else":
            tag(doc, "else")
        else:
            roles = role.split("|")
            test = (f"{var} == '{roles[0]}'" if len(roles) == 1
                    else f"{var} in ({', '.join(repr(r) for r in roles)},)")
            tag(doc, f"{'if' if first else 'elif'} {test}")
        first = False
        for text in paragraphs:
            para(doc, text)
    tag(doc, "endif")


def by_condition(doc: DocxDocument, branches: Sequence[tuple[str, Sequence[str]]]) -> None:
    """One block of paragraphs per Jinja condition, the first that holds; ``else`` last."""
    for n, (condition, paragraphs) in enumerate(branches):
        tag(doc, "else" if condition == "else" else f"{'elif' if n else 'if'} {condition}")
        for text in paragraphs:
            para(doc, text)
    tag(doc, "endif")


def table(doc: DocxDocument, headers: Sequence[str], cells: Sequence[str], *,
          loop: str | None = None, widths_mm: Sequence[float] | None = None,
          blank_rows: int = 0, row_height_mm: float | None = None,
          loop_row_height_mm: float | None = None) -> None:
    """A bordered table with a shaded, repeating header row.

    With ``loop`` (``"e in enclosures"``) the body row is repeated for each item (docxtpl
    ``{%tr for %}``); ``blank_rows`` adds empty rows to write in.
    """
    rows = 4 + blank_rows if loop else 1 + max(blank_rows, 1)
    tbl = doc.add_table(rows=rows, cols=len(headers))
    tbl.style = "Table Grid"
    for cell, text in zip(tbl.rows[0].cells, headers, strict=True):
        cell.paragraphs[0].style = "Table Heading"
        cell.paragraphs[0].add_run(text)
        shade(cell)
    repeat_header(tbl.rows[0])
    body_start = 1
    if loop:
        tbl.rows[1].cells[0].paragraphs[0].add_run(f"{{%tr for {loop} %}}")
        for cell, text in zip(tbl.rows[2].cells, cells, strict=True):
            cell.paragraphs[0].style = "Table Text"
            cell.paragraphs[0].add_run(text)
        tbl.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")
        body_start = 4
    elif cells:
        for cell, text in zip(tbl.rows[1].cells, cells, strict=True):
            cell.paragraphs[0].add_run(text)
    for row in tbl.rows[body_start:]:
        for cell in row.cells:
            cell.paragraphs[0].style = "Table Text"
        if row_height_mm:
            row.height = Mm(row_height_mm)
            row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    if loop and loop_row_height_mm:
        tbl.rows[2].height = Mm(loop_row_height_mm)
        tbl.rows[2].height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    if widths_mm:
        set_widths(tbl, widths_mm)
    doc.add_paragraph().paragraph_format.space_after = Pt(4)


def write_box(doc: DocxDocument, prompt: str, height_mm: float = 45, hint: str = "", *,
              keep_with_next: bool = False, field: str = "") -> None:
    """A question with a bordered box below it to write the answer in; ``keep_with_next``
    keeps the box on the same page as the paragraph after it (a closing line never stands
    alone on a sheet). With ``field`` (its name) the box holds a text field to type in."""
    p = doc.add_paragraph(style="Heading 2")
    p.add_run(prompt)
    if hint:
        para(doc, hint, "Small Print")
    tbl = doc.add_table(rows=1, cols=1)
    tbl.style = "Table Grid"
    tbl.rows[0].height = Mm(height_mm)
    tbl.rows[0].height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    tbl.rows[0].cells[0].paragraphs[0].style = "Table Text"
    tbl.rows[0].cells[0].paragraphs[0].paragraph_format.keep_with_next = keep_with_next
    if field:
        from templatebuild.controls import text_box

        inside = tbl.rows[0].cells[0].paragraphs[0]
        # clear of the cell's top border: LibreOffice paints a control's area over it
        inside.paragraph_format.space_before = Pt(3)
        text_box(inside, field, width_mm=TEXT_WIDTH_MM - 6,
                 height_mm=height_mm - 4)
    gap = doc.add_paragraph().paragraph_format
    gap.space_after = Pt(2)
    gap.keep_with_next = keep_with_next


def keep_last_with_next(doc: DocxDocument, count: int) -> None:
    """Keep the last ``count`` paragraphs (tags included: they vanish when filled) on the page
    of what follows: a closing paragraph goes over with the sign-off, not the sign-off alone."""
    for paragraph in doc.paragraphs[-count:]:
        paragraph.paragraph_format.keep_with_next = True


def sign_off(doc: DocxDocument, closing: str = "Yours sincerely") -> None:
    """The closing, a gap and the IRO's name and title, kept together on one page (a page
    holding only a name and title looks like a stray sheet)."""
    closing_p = doc.add_paragraph(closing)
    gap = doc.add_paragraph()
    p = doc.add_paragraph()
    p.add_run("{{ iro.name }}").bold = True
    p.paragraph_format.space_after = Pt(0)
    for kept in (closing_p, gap, p):
        kept.paragraph_format.keep_with_next = True
    para(doc, "Independent Reviewing Officer")


def reader_title(doc: DocxDocument, to_child: str, to_adult: str) -> None:
    """The heading in words for the child, and in an adult's (it may name the child)."""
    tag(doc, "if recipient.is_child")
    doc.add_paragraph(to_child, style="Title")
    tag(doc, "else")
    doc.add_paragraph(to_adult, style="Title")
    tag(doc, "endif")


def reader_sign_off(doc: DocxDocument) -> None:
    """"Best wishes" to a child, "Yours sincerely" to anyone else."""
    tag(doc, "if recipient.is_child")
    sign_off(doc, "Best wishes")
    tag(doc, "else")
    sign_off(doc)
    tag(doc, "endif")
