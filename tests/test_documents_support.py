"""Helpers shared by the document tests: text and XML of a rendered .docx."""

from __future__ import annotations

import io
import zipfile

from lxml import etree


def docx_text(data: bytes) -> str:
    """All visible text: body paragraphs, table cells, headers and footers (python-docx)."""
    import docx

    doc = docx.Document(io.BytesIO(data))
    out = [p.text for p in doc.paragraphs]
    out += [c.text for t in doc.tables for r in t.rows for c in r.cells]
    for s in doc.sections:
        for part in (s.header, s.footer, s.first_page_header, s.first_page_footer):
            out += [p.text for p in part.paragraphs]
    return "\n".join(out)


def assert_xml_valid(data: bytes) -> None:
    """Every XML part parses with a strict (non-recovering) parser."""
    parser = etree.XMLParser(recover=False)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(z.read(name), parser)
