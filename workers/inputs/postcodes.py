"""The one UK postcode rule, used at import and by the mail-out's preflight alike.

The shape Royal Mail's PAF allows: outward code (area letters restricted by position), space
optional, inward code without C, I, K, M, O or V; plus GIR 0AA.
"""

from __future__ import annotations

import re

_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2})$",
    re.IGNORECASE,
)


def is_postcode(text: str | None) -> bool:
    return bool(text and _POSTCODE.match(" ".join(text.split())))


def normalise(text: str) -> str:
    """``br1 1aa`` → ``BR1 1AA``; ValueError if it is not a UK postcode."""
    compact = "".join(text.split()).upper()
    if not is_postcode(compact):
        raise ValueError("not a UK postcode")
    return f"{compact[:-3]} {compact[-3:]}"
