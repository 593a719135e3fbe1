"""Jinja filters for letters: UK dates and times, and names as they are printed.

Pure functions; registered on the sandboxed environment by ``workers.documents.environment``.
Empty optional values (``None`` or ``""``) render as an empty string rather than failing, so a
letter with an unknown venue still goes out (the catalogue says which fields may be empty).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from workers.core.clock import LONDON


def _london(value: dt.datetime) -> dt.datetime:
    """Times are stored in UTC; a letter says them as the council's clock reads them (BST)."""
    return value.astimezone(LONDON) if value.tzinfo is not None else value


_SMALL_WORDS = frozenset({"and", "of", "the", "for", "in", "on", "at", "to"})


def _as_date(value: Any, filter_name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _london(value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return _london(dt.datetime.fromisoformat(value))
        except ValueError:
            pass
    raise ValueError(f"filter {filter_name} expects a date, got {type(value).__name__}")


def uk_date(value: Any) -> str:
    """``15 March 2026`` (GOV.UK style: no ordinal, no leading zero)."""
    day = _as_date(value, "uk_date")
    return "" if day is None else f"{day.day} {day:%B %Y}"


def uk_day_date(value: Any) -> str:
    """``Monday 15 March 2026``."""
    day = _as_date(value, "uk_day_date")
    return "" if day is None else f"{day:%A} {day.day} {day:%B %Y}"


def uk_time(value: Any) -> str:
    """``10:30am``, ``2pm``, ``12 noon`` (GOV.UK style)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else (
            dt.time.fromisoformat(value)
        )
    if isinstance(value, dt.datetime):
        value = _london(value).time()
    if not isinstance(value, dt.time):
        raise ValueError(f"filter uk_time expects a time, got {type(value).__name__}")
    if value.hour == 12 and value.minute == 0:
        return "12 noon"
    if value.hour == 0 and value.minute == 0:
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def initials(value: Any) -> str:
    """``Zoë Łukasz-Smith`` → ``Z.Ł.`` (first letter of the first and last names)."""
    words = str(value or "").split()
    if not words:
        return ""
    letters = [words[0][:1]] + ([words[-1][:1]] if len(words) > 1 else [])
    return "".join(f"{c.upper()}." for c in letters)


def given_name(value: Any) -> str:
    """The first word of a name: children are written to by their given name only."""
    words = str(value or "").split()
    return words[0] if words else ""


def nobreak(value: Any) -> str:
    """A code kept on one line: its hyphens non-breaking (U+2011), its spaces no-break spaces.
    The returns matcher reads U+2011 as a dash, so a code copied out of a PDF still matches."""
    return str(value or "").replace("-", "\u2011").replace(" ", "\u00a0")


def title_case_safe(value: Any) -> str:
    """Capitalise names typed in lower or upper case without breaking O'Neil, McDonald or Łukasz.

    Mixed-case input is trusted as typed (``McDonald``, ``van der Berg``); only all-lower or
    all-upper text is changed, word by word, keeping hyphens and apostrophes.
    """
    text = str(value or "")
    if text != text.lower() and text != text.upper():
        return text

    def cap(word: str, first: bool) -> str:
        if not first and word.lower() in _SMALL_WORDS:
            return word.lower()
        parts = []
        for chunk in word.lower().split("-"):
            pieces = chunk.split("'")
            parts.append("'".join(p[:1].upper() + p[1:] for p in pieces))
        return "-".join(parts)

    return " ".join(cap(w, i == 0) for i, w in enumerate(text.split(" ")))


def join_lines(value: Any, sep: str = ", ") -> str:
    """An address kept as a list of lines, printed on one line."""
    if not value:
        return ""
    if isinstance(value, str):
        value = value.splitlines()
    return sep.join(str(v) for v in value if str(v).strip())


# A meeting in the child's placement: "Carer's home", "Foster home", "Placement", "Home visit".
_HOME = re.compile(r"^\s*((the\s+)?(foster\s+)?carers?'?s?\s+home|foster\s+home|placement|"
                   r"home(\s+visit)?|child'?s\s+home)\s*$", re.IGNORECASE)


def venue_for(venue: Any, role: str = "") -> str:
    """Where the meeting is, as the phrase after its time, for the reader ``role``:
    ``in Room 2, Civic Centre`` (a room), ``at Bromley Library``, ``venue to be confirmed``;
    a meeting in the placement is ``at your home`` to the child and the carer and
    ``at the carer's home`` to anyone else (never its address: it may be withheld)."""
    text = " ".join(str(venue or "").split())
    if not text:
        return "venue to be confirmed"
    if _HOME.match(text):
        return "at your home" if role in ("carer", "child") else "at the carer's home"
    first = text.split(",", 1)[0].lower()
    return f"in {text}" if "room" in first.split() else f"at {text}"


FILTERS: dict[str, Callable[..., str]] = {
    "uk_date": uk_date,
    "uk_day_date": uk_day_date,
    "uk_time": uk_time,
    "initials": initials,
    "given_name": given_name,
    "title_case_safe": title_case_safe,
    "join_lines": join_lines,
    "nobreak": nobreak,
    "venue_for": venue_for,
}
