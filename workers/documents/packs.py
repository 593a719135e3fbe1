"""Packs: invitation + consultation form + return instructions as one PDF.

Built by concatenating PDFs with pypdf: docxcompose would drop each appended document's headers
and footers (its issue tracker), and each document keeps its own page numbering this way.
For printing on both sides (``duplex``) every document starts on a fresh sheet: a form the family
sends back never shares a sheet with the letter carrying their address or with the instructions
they keep.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from workers.errors import TemplateError


def build_pack(pdfs: Sequence[bytes], *, duplex: bool = False, title: str = "") -> bytes:
    """One PDF holding every page of ``pdfs`` in order, tagged, in British English and titled
    ``title`` (``workers.documents.tagged``; else the first document's title); ``duplex``: a
    blank back page after each document with an odd number of pages."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from workers.documents.tagged import TaggedJoin

    if not pdfs:
        raise TemplateError("a pack needs at least one document")
    join = TaggedJoin()
    for index, data in enumerate(pdfs, start=1):
        try:
            reader = PdfReader(io.BytesIO(data))
            join.append(reader)
        except (PdfReadError, ValueError) as exc:
            raise TemplateError(f"pack document {index} is not a readable PDF: {exc}") from exc
        if index == 1 and not title:
            title = (reader.metadata.title if reader.metadata else None) or ""
        if duplex and join.pages % 2:
            join.blank_page()
    return join.finish(title)
