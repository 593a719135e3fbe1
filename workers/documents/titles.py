"""The title of each document a letter carries: what a screen reader announces and a PDF
viewer shows in its title bar (PDF/UA asks for a real one, not the file name).

A document for the child is titled with their given name ("Invitation to Zoë's review,
12 January 2027"); one for anyone else, which may be forwarded or filed, with the review's
reference and the child's initials only ("Invitation to review R-1042 (Z.O.), 12 January 2027").
Pure: the template kind and its context in, the title out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workers.documents.filters import uk_date


def document_title(kind: str, ctx: Mapping[str, Any]) -> str:
    child, review = ctx.get("child") or {}, ctx.get("review") or {}
    recipient = ctx.get("recipient") or {}
    when = uk_date(review.get("scheduled_at") or review.get("due_on"))
    for_child = bool(recipient.get("is_child")) or kind.startswith("consultation_child")
    about = (f"{child.get('given_name')}'s review" if for_child
             else f"review {review.get('ref')} ({child.get('initials')})")
    if kind == "invitation":
        return f"Invitation to {about}, {when}"
    if kind == "reminder":
        return f"Reminder: {about}, {when}"
    if kind == "return_instructions":
        return f"How to send your form back: {about}"
    if kind.startswith("consultation_child"):
        return f"My review booklet: {about}, {when}"
    if kind.startswith("escalation_"):  # to managers: the reference and initials only
        esc = ctx.get("escalation") or {}
        what = "Outcome" if kind == "escalation_resolved" else esc.get("stage")
        return f"{what}: escalation {esc.get('ref')} ({child.get('initials')})"
    if kind == "change_of_arrangements":
        return f"Change of arrangements: {about}"
    if kind == "review_cancelled":
        return f"Review meeting cancelled: {about}"
    if kind == "record_child_letter":
        return f"What we decided at {about}" if for_child else f"Decisions: {about}"
    if kind == "review_record":
        return f"Review record: {about}, {when}"
    from workers.documents.catalogue import get_kind

    return f"{get_kind(kind).title}: {about}"


def with_title(docx: bytes, title: str) -> bytes:
    """The Word document with ``title`` as its title property (docProps/core.xml), which Word
    shows and LibreOffice writes into the PDF's /Title and XMP metadata."""
    import io
    import zipfile

    from lxml import etree

    dc_title = "{http://purl.org/dc/elements/1.1/}title"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/core.xml":
                core = etree.fromstring(data)
                node = core.find(dc_title)
                if node is None:
                    node = etree.SubElement(core, dc_title)
                node.text = title
                data = etree.tostring(core, xml_declaration=True, encoding="UTF-8",
                                      standalone=True)
            # the fastest deflate: recompressing every part at the default level took four
            # fifths of a letter's rendering (the mail-outs due page renders 25 reviews' letters)
            zout.writestr(info, data, compresslevel=1)
    return out.getvalue()
