"""A confidential placement address (by court order or for safety) never reaches a document or
email for a participant it is withheld from (DESIGN.md §6; issue 16).

The placement address is the address the review's carers are recorded at. It is withheld when
the review is marked ``placement_confidential``, from each participant whose
``placement_withheld`` says so, or, left blank, by role (``WITHHELD_BY_DEFAULT``: parents).

Two layers, both pure:

* ``shield`` — a venue at the carer's home reads to them as ``VENUE_WITHHELD``; nothing else is
  rewritten, because a letter quietly missing a fact is worse than one refused.
* ``check_rendered`` — every document and email made for them is searched for the address (its
  street line and postcode, whitespace and case ignored); a hit raises ConfidentialError naming
  the document and the fields that carry it. The mail-out's preflight turns that into a refusal,
  and a worker composing the letter later fails it rather than send it.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from io import BytesIO
from typing import Any, Protocol

from workers.errors import ConfidentialError

VENUE_WITHHELD = "the carer's home — your social worker will arrange how you attend"
WITHHELD_BY_DEFAULT = frozenset({"parent"})
CONTEXT_KEY = "_withheld_address"  # the fragments ride in the context for check_rendered
_AT_HOME = re.compile(r"carer'?s'?\s+(own\s+)?home|foster\s+home|placement\s+address", re.I)


class PersonLike(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def address(self) -> str | None: ...
    @property
    def postcode(self) -> str | None: ...
    @property
    def placement_withheld(self) -> bool | None: ...


class ReviewLike(Protocol):
    @property
    def placement_confidential(self) -> bool: ...
    @property
    def participants(self) -> Sequence[Any]: ...


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def fragments(review: ReviewLike) -> tuple[str, ...]:
    """What identifies the placement address in text: each carer's street line (the first line
    with a digit, else the first line) and postcode, normalised. Town names alone are too common
    to search for."""
    found: list[str] = []
    for person in review.participants:
        if person.role != "carer":
            continue
        lines = [ln.strip() for ln in (person.address or "").splitlines() if ln.strip()]
        street = next((ln for ln in lines if any(c.isdigit() for c in ln)), lines[0] if lines
                      else "")
        for part in (street, person.postcode or ""):
            if len(_norm(part)) >= 4 and _norm(part) not in found:
                found.append(_norm(part))
    return tuple(found)


def withheld_from(review: ReviewLike, person: PersonLike) -> bool:
    if not review.placement_confidential or person.role == "carer":
        return False
    if person.placement_withheld is not None:
        return person.placement_withheld
    return person.role in WITHHELD_BY_DEFAULT


def shield(ctx: dict[str, Any], review: ReviewLike, person: PersonLike) -> dict[str, Any]:
    """The context as ``person`` may see it (see the module's docstring)."""
    if not withheld_from(review, person):
        return ctx
    secret = fragments(review)
    venue = str(ctx.get("review", {}).get("venue") or "")
    if venue and (_AT_HOME.search(venue) or any(f in _norm(venue) for f in secret)):
        ctx = {**ctx, "review": {**ctx["review"], "venue": VENUE_WITHHELD}}
    return {**ctx, CONTEXT_KEY: secret}


def leaks(ctx: Mapping[str, Any], secret: Sequence[str], path: str = "") -> Iterator[str]:
    """Dotted paths of the context's text fields that carry the address."""
    for key, value in ctx.items():
        if key == CONTEXT_KEY:
            continue
        here = f"{path}{key}"
        if isinstance(value, str) and any(f in _norm(value) for f in secret):
            yield here
        elif isinstance(value, Mapping):
            yield from leaks(value, secret, f"{here}.")
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, Mapping):
                    yield from leaks(item, secret, f"{here}[].")
                elif isinstance(item, str) and any(f in _norm(item) for f in secret):
                    yield f"{here}[]"


def docx_text(data: bytes) -> str:
    """The words of a .docx (body, headers, footers), tags dropped, runs joined."""
    with zipfile.ZipFile(BytesIO(data)) as docx:
        parts = [n for n in docx.namelist() if n.startswith("word/") and n.endswith(".xml")]
        xml = " ".join(docx.read(n).decode("utf-8", "replace") for n in parts)
    text = re.sub(r"</w:p>", "\n", xml)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def check_text(ctx: Mapping[str, Any], document: str, text: str) -> None:
    """Raise ConfidentialError if ``text`` (made from ``ctx``) carries a withheld address."""
    secret = ctx.get(CONTEXT_KEY) or ()
    if not secret:
        return
    flat = _norm(text.replace("\n", " "))
    if not any(f in flat for f in secret):
        return
    fields = sorted(set(leaks(ctx, secret))) or ["the template's own text"]
    raise ConfidentialError(
        f"{document}: {', '.join(fields)} would reveal the confidential placement address to "
        f"this {ctx.get('recipient', {}).get('role', 'participant')}; correct the case record "
        "(the field named) or the template; nothing was sent")


def check_rendered(ctx: Mapping[str, Any], document: str, data: bytes) -> None:
    if ctx.get(CONTEXT_KEY):
        check_text(ctx, document, docx_text(data))
