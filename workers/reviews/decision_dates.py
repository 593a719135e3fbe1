"""A decision's timescale as a date, and whether its progress says it is done (issue 15). Pure.

The IRO writes timescales in words ("By 15 January 2027", "15/01/2027", "within 6 weeks",
"1 month"); those that name a date, or a span from the meeting, become a date the annual report
can count decisions overdue against. Anything else ("ongoing", "at the next review") has no date
and is counted as such, never guessed. Progress is what the next review's record writes against
each previous decision; it is done only when it says so without a "not" or "partly".
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil.relativedelta import relativedelta

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    start=1)}
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "eight": 8, "ten": 10, "twelve": 12}
_NAMED = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3})[a-z]*\.?,?\s+(\d{4})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_SPAN = re.compile(r"\b(\d{1,2}|an?|one|two|three|four|five|six|eight|ten|twelve)\s+"
                   r"(working\s+days?|days?|weeks?|months?)\b")
_DONE = re.compile(r"\b(done|complete|completed|achieved|met|finished|in place|yes)\b")
_NOT_DONE = re.compile(r"\b(not|no|partly|partially|part|ongoing|outstanding|in progress|"
                       r"delayed|overdue|awaiting|pending)\b")


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def due_date(timescale: str, held_on: dt.date | None) -> dt.date | None:
    """The date a timescale names: a written date, or a span counted from the meeting."""
    text = timescale.lower()
    if m := _NAMED.search(text):
        month = _MONTHS.get(m.group(2))
        if month:
            return _date(int(m.group(3)), month, int(m.group(1)))
    if m := _NUMERIC.search(text):  # dd/mm/yyyy, as the UK writes it
        return _date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if m := _ISO.search(text):
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if held_on is not None and (m := _SPAN.search(text)):
        n = _WORDS.get(m.group(1)) or int(m.group(1))
        unit = m.group(2)
        if unit.startswith("month"):
            return held_on + relativedelta(months=n)
        if unit.startswith("week"):
            return held_on + dt.timedelta(weeks=n)
        if not unit.startswith("working"):
            return held_on + dt.timedelta(days=n)
    return None  # "ongoing", "next review", working days (no calendar here): no date


def is_done(progress: str) -> bool:
    text = " ".join(progress.lower().split())
    return bool(_DONE.search(text)) and not _NOT_DONE.search(text)
