"""Pure: when a midway check falls due and when the IRO is reminded of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from workers.config.offsets import Offset
from workers.reviews.calendar import Calendar


class MidwayRulesLike(Protocol):
    @property
    def fraction(self) -> float: ...

    @property
    def reminders(self) -> Sequence[Offset]: ...


def deadline_key(review_ref: str) -> str:
    """The midway check that follows the review ``review_ref`` (one per review held)."""
    return f"{review_ref}/midway"


def reminder_key(review_ref: str, on: dt.date) -> str:
    return f"{deadline_key(review_ref)}/reminder/{on.isoformat()}"


def due_on(rules: MidwayRulesLike, calendar: Calendar, *, held_on: dt.date,
           next_due: dt.date) -> dt.date | None:
    """``fraction`` of the working days from the review held to the next one due, rounded;
    None when fewer than two working days lie between (no room for a check)."""
    span = calendar.between(held_on, next_due, statutory=False)
    if span < 2:
        return None
    return calendar.add(held_on, max(1, round(span * rules.fraction)), statutory=False)


def reminder_days(rules: MidwayRulesLike, calendar: Calendar, *, held_on: dt.date,
                  due: dt.date) -> tuple[dt.date, ...]:
    """The reminder days strictly between the review and the check (one a day at most)."""
    anchors = {"held": held_on, "due": due}
    days = {calendar.apply(r, anchors[r.anchor], statutory=False) for r in rules.reminders}
    return tuple(sorted(d for d in days if held_on < d < due))
