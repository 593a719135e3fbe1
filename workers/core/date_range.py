"""The dates a person may type (on the command line or into a web box): the years the service
can count working days for. The bank-holiday tables and every deadline (a date plus months or
working days) stay far from Python's year 1 and year 9999, where adding a day raises."""

from __future__ import annotations

import datetime as dt

from workers.errors import BadInputError

FIRST_YEAR, LAST_YEAR = 1900, 2199


def in_range(day: dt.date, name: str) -> dt.date:
    """``day``, or a BadInputError naming the option or box it was typed into."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadInputError(f"{name}: {day.isoformat()} is out of range; give a date from "
                            f"{FIRST_YEAR} to {LAST_YEAR}")
    return day
