"""The completed record's sections, and a copy with some taken out (issue 15 §2). Pure.

A section is a "Heading 1" paragraph and everything after it up to the next one, as the draft
record is built. A copy for someone a section is withheld from keeps the heading with a line
saying it is not included, and nothing of its content.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

WITHHELD_NOTE = "This section is not included in your copy of the record."


def _is_heading(paragraph_style: str | None) -> bool:
    return (paragraph_style or "").lower() in ("heading 1", "heading1")


def headings(content: bytes) -> list[str]:
    """The titles of the record's sections, in order."""
    import docx

    document = docx.Document(io.BytesIO(content))
    return [p.text.strip() for p in document.paragraphs
            if p.style is not None and _is_heading(p.style.name) and p.text.strip()]


def without_sections(content: bytes, titles: Iterable[str]) -> bytes:
    """The record with the named sections' content removed (headings compared without case)."""
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    wanted = {t.strip().lower() for t in titles}
    if not wanted:
        return content
    document = docx.Document(io.BytesIO(content))
    body = document.element.body
    removing = False
    for element in list(body.iterchildren()):
        if element.tag == qn("w:sectPr"):
            continue
        if element.tag == qn("w:p"):
            paragraph = Paragraph(element, document)
            style = paragraph.style.name if paragraph.style is not None else None
            if _is_heading(style):
                removing = paragraph.text.strip().lower() in wanted
                if removing:
                    note = Paragraph(element, document).insert_paragraph_before(WITHHELD_NOTE)
                    # the note goes after the heading: move it there
                    element.addnext(note._p)
                continue
            if removing and paragraph.text == WITHHELD_NOTE:
                continue
        if removing:
            body.remove(element)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def withheld_in_record(content: bytes, sections: Iterable[str]) -> dict[str, list[str]]:
    """What the IRO marked withheld in the record's "Who receives this record" table: the
    recipient's name as written there → the section headings named in their row."""
    import docx

    titles = [s for s in sections if s]
    document = docx.Document(io.BytesIO(content))
    out: dict[str, list[str]] = {}
    for table in document.tables:
        rows = table.rows
        if not rows or "withheld" not in rows[0].cells[-1].text.lower():
            continue
        for row in rows[1:]:
            name, note = row.cells[0].text.strip(), row.cells[-1].text.lower()
            named = [t for t in titles if t.lower() in note]
            if name and named:
                out.setdefault(name, []).extend(named)
    return out
