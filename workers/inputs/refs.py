"""References are identifiers, not text: a safe set of characters, so a ref can name a file, sit
in a URL path and in a dispatch key without escaping.

Letters, digits, ``-``, ``_`` and ``.``; no leading dot (``..`` and hidden files) and no leading
``-`` (a command line would take it for an option, a spreadsheet for a formula); at most
``MAX_LENGTH`` characters, the store's column width (workers/store/models.py). A ``/`` is refused
because dispatch keys use it as a separator (``R-1/mailout/P-1``): a ref holding ``/mailout/``
could collide with another family's key and be skipped as "already queued".
"""

from __future__ import annotations

import re

from workers.errors import BadInputError

MAX_LENGTH = 40
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def ref_problem(text: str, max_length: int = MAX_LENGTH) -> str | None:
    """Why ``text`` is not a usable reference, or None. The reason never echoes the value."""
    if not text:
        return "is empty"
    if len(text) > max_length:
        return f"is longer than {max_length} characters"
    if text.startswith((".", "-")):
        return f"starts with {text[0]!r}; a reference starts with a letter, digit or _"
    if not _SAFE.fullmatch(text):
        return "has a character other than letters, digits, '-', '_' or '.'"
    return None


def check_ref(text: str, what: str, max_length: int = MAX_LENGTH) -> str:
    """``text`` if it is a usable reference, else BadInputError naming ``what`` (e.g. child ref)."""
    problem = ref_problem(text, max_length)
    if problem:
        raise BadInputError(f"{what} {problem}; use letters, digits, '-', '_' or '.'")
    return text
