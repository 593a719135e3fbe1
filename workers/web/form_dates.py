"""A date typed into a web form: one reading and one message for every page.

An empty box means the default where the page has one (today, for "held on"), else it is an
error; anything but YYYY-MM-DD, or a year the service cannot count working days in, is an error
naming the box, never Python's own wording.
"""

from __future__ import annotations

import datetime as dt

from workers.core.date_range import in_range
from workers.errors import BadInputError


def form_day(value: str, label: str, default: dt.date | None = None) -> dt.date:
    text = value.strip()
    if not text and default is not None:
        return default
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise BadInputError(f"{label}: expected a date (YYYY-MM-DD), got {text[:20]!r}") \
            from None
    return in_range(day, label)
