"""Form reference codes: ``C-`` and 8 Crockford base32 characters, random, never personal.

A code is printed on a consultation form and quoted in the email subject so a returned form can be
matched to the dispatch that carried it. It is drawn from ``secrets`` (40 bits), so it cannot be
guessed from a review or a participant, and it holds no personal data. Uniqueness is the store's
(``dispatches.reference_code`` is unique). Reading one back is forgiving, as people type codes:
any case, spaces or a dash inside, and Crockford's look-alikes (O→0, I/L→1).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
PREFIX = "C-"
LENGTH = 8
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# "C-XXXXXXXX", "c - xxxx xxxx", "C XXXXXXXX": spaces around the dash, and one space or dash
# splitting the 8 characters in two halves, as people copy codes out.
_CANDIDATE = re.compile(
    r"(?<![0-9A-Z])C\s*[-\u2010-\u2014]?\s*([0-9A-Z]{4}[ \t-]?[0-9A-Z]{4})(?![0-9A-Z])",
    re.IGNORECASE,
)


def new_code() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str | None:
    """The canonical code for ``text`` typed by a person, or None if it cannot be one."""
    match = _CANDIDATE.fullmatch(text.strip())
    return _canonical(match.group(1)) if match else None


def _canonical(chars: str) -> str | None:
    core = re.sub(r"[\s-]", "", chars).upper().translate(_LOOKALIKES)
    if len(core) != LENGTH or any(c not in ALPHABET for c in core):
        return None
    return PREFIX + core


def find_codes(text: str) -> list[str]:
    """Every well-formed code in ``text``, in order of appearance, without repeats.

    Candidates are checked against the store by the caller: a chance match of ordinary words is
    harmless because only a code that was issued can match a form.
    """
    found: list[str] = []
    for match in _CANDIDATE.finditer(text or ""):
        code = _canonical(match.group(1))
        if code and code not in found:
            found.append(code)
    return found
