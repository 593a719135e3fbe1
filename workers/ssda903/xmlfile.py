"""The 903 XML export (``EXPSSDA903``) → the same three tables as the CSV files.

Each ``CHILD`` element holds a ``HEADER`` (CHILD, SEX, DOB, …), its episodes (any element holding
a ``DECOM``) and its reviews (``AREVIEW`` with REVIEW and REVIEW_CODE). Dates may be written
``dd/mm/yyyy`` or ``yyyy-mm-dd`` (xs:date); rows carry the element's line for error messages.
Parsed without DTDs, entities or network (a DOCTYPE is refused outright).
"""

from __future__ import annotations

import re

from lxml import etree

from workers.errors import ImportRowError
from workers.ssda903.tables import EPISODES, HEADER, REVIEWS, Row, Table

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _text(element: etree._Element, name: str) -> str:
    found = element.find(name)
    value = (found.text or "").strip() if found is not None else ""
    m = _ISO.match(value)
    return f"{m.group(3)}/{m.group(2)}/{m.group(1)}" if m else value


def read_xml(data: bytes, source: str) -> list[Table]:
    if b"<!DOCTYPE" in data[:4096].upper():
        raise ImportRowError(f"{source}: line 1: a DOCTYPE declaration is not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImportRowError(f"{source}: line {exc.lineno}: not valid XML ({exc.msg})") from None
    if root.tag != "EXPSSDA903":
        raise ImportRowError(f"{source}: line {root.sourceline}: the root element is "
                             f"<{root.tag}>, not <EXPSSDA903>")
    header: list[Row] = []
    episodes: list[Row] = []
    reviews: list[Row] = []
    for child in root.iter("CHILD"):
        head = child.find("HEADER")
        if head is None:
            continue  # the CHILD element inside HEADER, or a child without a header
        ref, dob = _text(head, "CHILD"), _text(head, "DOB")
        line = head.sourceline or 0
        header.append(Row(source, line, {c: _text(head, c) for c in HEADER}))
        for ep in child.iter():
            if ep is not head and ep.find("DECOM") is not None:
                values = {c: _text(ep, c) for c in EPISODES}
                values["CHILD"] = ref
                episodes.append(Row(source, ep.sourceline or 0, values))
        for review in child.iter("AREVIEW"):
            values = {c: _text(review, c) for c in REVIEWS}
            values.update(CHILD=ref, DOB=dob)
            reviews.append(Row(source, review.sourceline or 0, values))
    return [Table("Header", source, tuple(header)), Table("Episodes", source, tuple(episodes)),
            Table("Reviews", source, tuple(reviews))]
