"""Page, styles, letterhead and footer shared by every Word template.

A4 with the address block placed for the window envelope of service.yaml's ``post.window``
(shipped: DL, 90 x 45 mm, 20 mm from the left and 45 mm from the top, 5 mm slide): the address
sits where the window shows it whole at any slide, and nothing else is printed where the window
can reach, so a letter shows its address and only its address (DESIGN.md §6). The letterhead
and the reference panel sit to the right of the window's reach; the letter's body starts at
``post.body_top_mm`` (100 mm), below it. Later pages carry only the marking and reference.
Arial 12pt (RNIB clear print guidance: a sans-serif font of at least 12pt).
"""

from __future__ import annotations

from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from workers.config.post import PostSettings
from workers.documents.docx_style import FONT, set_font, set_language

MARKING = "OFFICIAL-SENSITIVE"
ACCENT = RGBColor(0x1D, 0x4F, 0x91)
# The shipped window geometry, written once in workers/config/settings.py (service.yaml's post:).
POST = PostSettings()
MARGIN_MM = 20
# Letterhead and reference panel start this far right of the window's reach.
CLEAR_MM = 5


def _font(style_font: object, size: float, bold: bool = False) -> None:
    style_font.name = FONT  # type: ignore[attr-defined]
    style_font.size = Pt(size)  # type: ignore[attr-defined]
    style_font.bold = bold  # type: ignore[attr-defined]


def setup_styles(doc: DocxDocument, friendly: bool = False) -> None:
    set_language(doc)
    styles = doc.styles
    normal = styles["Normal"]
    _font(normal.font, 14 if friendly else 12)
    set_font(normal)
    normal.paragraph_format.space_after = Pt(8)
    normal.paragraph_format.line_spacing = 1.15
    for name, size in (("Title", 20 if friendly else 16), ("Heading 1", 18 if friendly else 14),
                       ("Heading 2", 15 if friendly else 12)):
        style = styles[name]
        _font(style.font, size, bold=True)
        set_font(style)
        style.font.color.rgb = ACCENT
        style.font.italic = False
        style.paragraph_format.space_before = Pt(12)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
    title = styles["Title"]
    # python-docx's Title has a bottom border; a plain heading reads better in a letter
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    for name, size, bold in (("Letterhead", 10, False), ("Letterhead Name", 14, True),
                             ("Marking", 9, True), ("Address", 12, False),
                             ("Reference Panel", 10, False), ("Small Print", 10, False),
                             ("Table Text", 11, False), ("Table Heading", 11, True)):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        _font(style.font, size, bold)
        style.paragraph_format.space_after = Pt(0 if name != "Small Print" else 6)
        style.paragraph_format.line_spacing = 1.0
    styles["Letterhead Name"].font.color.rgb = ACCENT
    styles["Marking"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for name in ("Letterhead", "Letterhead Name"):
        styles[name].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _field(paragraph: Paragraph, instr: str) -> None:
    """A Word field (PAGE, NUMPAGES) so page numbers update in Word and LibreOffice."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instr), ("separate", None), (None, "1"),
                       ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text == instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instr} "
            run._r.append(el)
        else:
            el = OxmlElement("w:t")
            el.text = text
            run._r.append(el)


def _footer(footer: object, reference: str, marking: bool = True) -> None:
    p = footer.paragraphs[0]  # type: ignore[attr-defined]
    p.style = "Marking"
    if marking:
        p.add_run(f"{MARKING}    ")
    if reference:
        p.add_run(f"{reference}    ")
    p.add_run("Page ")
    _field(p, "PAGE")
    p.add_run(" of ")
    _field(p, "NUMPAGES")


def new_document(*, reference: str = "{{ letter.reference }}", letterhead: bool = True,
                 friendly: bool = False, marking: bool = True) -> DocxDocument:
    """A4 document with styles, letterhead on page 1, marking and page numbers on every page.

    ``reference`` is the Jinja expression printed in the later-page header and the footer.
    ``marking=False``: a young child's own pages, with no security banner and only the code
    (for the grown-up who sends it back) and page number in small print at the foot.
    """
    doc = Document()
    setup_styles(doc, friendly)
    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(MARGIN_MM)
    # the address (the body's first line) starts at the top of where the window always shows
    section.top_margin = Mm(POST.address_box.top) if letterhead else Mm(25)
    section.bottom_margin = Mm(22)
    section.header_distance = Mm(8)
    section.footer_distance = Mm(8)
    section.different_first_page_header_footer = letterhead
    hdr = section.header.paragraphs[0]
    hdr.style = "Marking"
    if marking:
        hdr.add_run(MARKING)
    if reference and marking:
        later = section.header.add_paragraph(f"Our reference: {reference}", style="Letterhead")
        later.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _footer(section.footer, reference, marking)
    if letterhead:
        first = section.first_page_header
        first.paragraphs[0].style = "Marking"
        first.paragraphs[0].add_run(MARKING)
        for text, style in (("{{ council.name }}", "Letterhead Name"),
                            ("{{ council.service }}", "Letterhead"),
                            ("{{ council.address_lines|join_lines }}", "Letterhead"),
                            ("Telephone {{ council.phone }}", "Letterhead"),
                            ("Email {{ council.email }}", "Letterhead")):
            # right of the window's reach, so the window never shows it at any slide
            first.add_paragraph(text, style=style).paragraph_format.left_indent = Mm(
                right_of_window() - MARGIN_MM)
        _footer(section.first_page_footer, reference)
    return doc


def no_borders(table: object) -> None:
    tbl_pr = table._tbl.tblPr  # type: ignore[attr-defined]
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def right_of_window() -> float:
    """Where (mm from the sheet's left edge) the letterhead and reference panel begin."""
    return POST.window_reach.right + CLEAR_MM


def _no_cell_margins(table: object) -> None:
    """Zero cell padding, so the address lands exactly where the window geometry says."""
    tbl_pr = table._tbl.tblPr  # type: ignore[attr-defined]
    margins = OxmlElement("w:tblCellMar")
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), "0")
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr.append(margins)


def address_block(doc: DocxDocument, *, to_child: bool = False) -> None:
    """Recipient's address (left, where the window shows it) and the reference panel (right,
    beyond the window's reach); the row is as tall as the space down to ``post.body_top_mm``,
    so the letter's heading (which may name the child) starts below anything the window shows.
    """
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    no_borders(table)
    _no_cell_margins(table)
    row = table.rows[0]
    row.height = Mm(POST.body_top_mm - POST.address_box.top)
    row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    left, right = row.cells
    split = right_of_window() - MARGIN_MM
    set_widths(table, (split, 210 - 2 * MARGIN_MM - split))
    box = POST.address_box
    indent, end = Mm(box.left - MARGIN_MM), Mm(split - (box.right - MARGIN_MM))
    # a carer's letter goes to their home: their fostering agency is not part of that address
    for n, text in enumerate(("{{ recipient.name }}",
                              "{%p if recipient.organisation and recipient.role != 'carer' %}",
                              "{{ recipient.organisation }}", "{%p endif %}",
                              "{%p for line in recipient.address_lines %}", "{{ line }}",
                              "{%p endfor %}", "{{ recipient.postcode }}")):
        p = left.paragraphs[0] if n == 0 else left.add_paragraph()
        p.style = "Address"
        p.add_run(text)
        # inside the window's always-visible part: a long line wraps rather than leave it
        p.paragraph_format.left_indent, p.paragraph_format.right_indent = indent, end
    panel = [
        ("Our reference", "{{ letter.reference }}"),
        ("Date", "{{ letter.date|uk_date }}"),
        ("Contact", "{{ iro.name }}"),
        ("Telephone", "{{ iro.phone }}"),
        ("Email", "{{ iro.email }}"),
    ]
    first = True
    for label, value in panel:
        para = right.paragraphs[0] if first else right.add_paragraph()
        first = False
        para.style = "Reference Panel"
        para.add_run(f"{label}: ").bold = True
        para.add_run(value)


def shade(cell: object, fill: str = "DCE6F2") -> None:
    tc_pr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def repeat_header(row: object) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    el = OxmlElement("w:tblHeader")
    tr_pr.append(el)


def keep_rows_whole(table: object) -> None:
    """No row breaks across a page (a step's stage name split over two sheets reads badly)."""
    for row in table.rows:  # type: ignore[attr-defined]
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def set_widths(table: object, widths_mm: Sequence[float]) -> None:
    """Column widths in both the grid (LibreOffice reads it) and every cell (Word reads those)."""
    table.autofit = False  # type: ignore[attr-defined]
    for column, width in zip(table.columns, widths_mm, strict=True):  # type: ignore[attr-defined]
        column.width = Mm(width)
    for row in table.rows:  # type: ignore[attr-defined]
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
