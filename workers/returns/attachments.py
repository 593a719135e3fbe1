"""Which form an attachment is: the codes in its file name, else in its text (issue 16 §3).

One email may carry two children's forms. Each attachment is matched by the code in its file
name ("C-7K2M9Q4R views.pdf"), else by the code printed on the form inside it (a PDF's text
layer, a Word document's paragraphs, tables, headers and footers, or plain text). A scan with no
text layer has no code to find: the message then goes to a person. Reading is bounded (size,
pages, the zip's unpacked size), and a file that cannot be read simply yields no code.
"""

from __future__ import annotations

import io
import logging
import zipfile

from workers.mailout.codes import find_codes
from workers.returns.inbox import InboxAttachment

log = logging.getLogger(__name__)
MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 20  # a consultation form is a few pages; the code is on the first
MAX_UNZIPPED = 50 * 1024 * 1024  # a .docx that unpacks to more is a bomb, not a form


def codes_in(attachment: InboxAttachment) -> list[str]:
    """The well-formed codes the attachment carries: its name's, else its text's."""
    named = find_codes(attachment.filename)
    if named:
        return named
    if len(attachment.content) > MAX_BYTES:
        return []
    try:
        return find_codes(_text(attachment))
    except Exception as exc:  # noqa: BLE001 - a damaged file is a file with no code we can read
        log.info("attachment not readable for a code (%s)", type(exc).__name__)
        return []


def _text(attachment: InboxAttachment) -> str:
    data, name = attachment.content, attachment.filename.lower()
    if data.startswith(b"%PDF-"):
        return _pdf_text(data)
    if data.startswith(b"PK") and (name.endswith(".docx") or "wordprocessingml" in
                                   attachment.content_type):
        return _docx_text(data)
    if attachment.content_type.startswith("text/") or name.endswith(".txt"):
        return data[:MAX_BYTES].decode("utf-8", errors="replace")
    return ""


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages[:MAX_PAGES])


def _docx_text(data: bytes) -> str:
    from workers.casework.confidential import docx_text

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
            return ""
    return docx_text(data)  # body, tables, headers and footers
