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


def build_pack(pdfs: Sequence[bytes], *, duplex: bool = False) -> bytes:
    """One PDF holding every page of ``pdfs`` in order; ``duplex``: a blank back page after
    each document with an odd number of pages."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError

    if not pdfs:
        raise TemplateError("a pack needs at least one document")
    writer = PdfWriter()
    for index, data in enumerate(pdfs, start=1):
        try:
            writer.append(PdfReader(io.BytesIO(data)))
        except (PdfReadError, ValueError) as exc:
            raise TemplateError(f"pack document {index} is not a readable PDF: {exc}") from exc
        if duplex and len(writer.pages) % 2:
            writer.add_blank_page()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
