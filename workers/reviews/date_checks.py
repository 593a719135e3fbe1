"""Pure: the doubts about a date a person typed that need ``--confirm`` (issue 16 §5).

A held date before the previous review, or weeks away from the planned meeting, is far more often
a typing slip than the truth, and it restarts every clock; a meeting on a weekend or a bank
holiday happens, rarely. Each doubt says what was seen, so the person can check before confirming.
"""

from __future__ import annotations

import datetime as dt

from workers.reviews.calendar import Calendar as DayCalendar


def non_working_day(day: dt.date, calendar: DayCalendar) -> str | None:
    """"a Saturday" / "a bank holiday", or None on a working day (local closures do not count:
    a council may well meet on a day its offices are shut)."""
    if calendar.is_working_day(day, statutory=True):
        return None
    return "a bank holiday" if calendar.is_bank_holiday(day) else f"a {day:%A}"


def meeting_day_doubts(day: dt.date, calendar: DayCalendar) -> list[str]:
    what = non_working_day(day, calendar)
    return [f"{day.isoformat()} is {what}"] if what else []


def held_date_doubts(held_on: dt.date, *, previous_held: dt.date | None,
                     planned_on: dt.date | None, far_days: int,
                     calendar: DayCalendar) -> list[str]:
    """Why ``held_on`` may be a slip: before the child's previous review, further than
    ``far_days`` from the planned meeting, or not a working day."""
    doubts: list[str] = []
    if previous_held is not None and held_on <= previous_held:
        doubts.append(f"{held_on.isoformat()} is not after the previous review, held "
                      f"{previous_held.isoformat()}")
    if planned_on is not None and abs((held_on - planned_on).days) > far_days:
        doubts.append(f"{held_on.isoformat()} is {abs((held_on - planned_on).days)} days from "
                      f"the planned meeting on {planned_on.isoformat()}")
    return doubts + meeting_day_doubts(held_on, calendar)
