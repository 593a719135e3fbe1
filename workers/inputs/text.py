"""Control characters are refused where text comes in, not found later when a send fails.

NUL, VT, ESC and the other C0/C1 controls break Word's XML (NUL and VT are not allowed in
XML 1.0 at all), terminal output and mail headers; U+FFFE/U+FFFF are Unicode non-characters.
Free text (a concern, an outcome, an address) may hold tabs and line breaks; a name may not:
a form feed or BEL in a name is refused (issue 17 §3).
"""

from __future__ import annotations

import re

from workers.errors import BadInputError

# C0 except tab/LF/CR, DEL, C1, the surrogates, and the non-characters U+FFFE/U+FFFF.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_CONTROL = re.compile("[\t\n\r]")


def control_problem(text: str, multiline: bool = True) -> str | None:
    """Why ``text`` may not be stored, or None. Names U+ code point, never the text."""
    found = _CONTROL.search(text) or (None if multiline else _LINE_CONTROL.search(text))
    if found is None:
        return None
    return f"holds the control character U+{ord(found.group()):04X}; remove it and try again"


def check_text(text: str, what: str, multiline: bool = True) -> str:
    """``text`` unchanged, or BadInputError naming ``what`` (e.g. ``--concern``)."""
    problem = control_problem(text, multiline)
    if problem:
        raise BadInputError(f"{what} {problem}")
    return text
