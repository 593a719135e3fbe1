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


def titled_core(core: bytes, title: str) -> bytes:
    """docProps/core.xml with ``title`` as its title property, which Word shows and LibreOffice
    writes into the PDF's /Title and XMP metadata."""
    from lxml import etree

    dc_title = "{http://purl.org/dc/elements/1.1/}title"
    root = etree.fromstring(core)
    node = root.find(dc_title)
    if node is None:
        node = etree.SubElement(root, dc_title)
    node.text = title
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))
