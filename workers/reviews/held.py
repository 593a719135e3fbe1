"""Pure: everything that follows from a review being held, as data the service layer stores.

Keys are deterministic so planning twice never creates a second deadline or dispatch, and a
reminder can never be sent twice (``R-1042/writeup/record/reminder/2027-01-12``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol

from workers.core.clock import LONDON
from workers.reviews.calendar import Calendar
from workers.reviews.clock import WriteUp, WriteUpClock, WriteUpKind, start_clocks
from workers.reviews.timescale import (
    Mailout,
    NextReview,
    Timeliness,
    Timescales,
    next_review,
    timeliness,
)

NoticeKind = Literal["review_record", "writeup_reminder", "writeup_overdue"]
SEND_HOUR = 8  # notices go at the start of the office day, London time


class ReviewRules(Protocol):
    @property
    def review_timescales(self) -> Timescales: ...

    @property
    def mailout(self) -> Mailout: ...

    @property
    def write_up(self) -> WriteUp: ...


def deadline_key(review_ref: str, kind: WriteUpKind) -> str:
    return f"{review_ref}/writeup/{kind}"


def mailout_key(review_ref: str) -> str:
    return f"{review_ref}/mailout"


def reminder_key(review_ref: str, kind: WriteUpKind, on: dt.date) -> str:
    return f"{deadline_key(review_ref, kind)}/reminder/{on.isoformat()}"


def overdue_key(review_ref: str, kind: WriteUpKind) -> str:
    return f"{deadline_key(review_ref, kind)}/overdue"


def record_draft_key(review_ref: str) -> str:
    return f"{review_ref}/review_record"


def send_at(day: dt.date) -> dt.datetime:
    """The moment a notice for ``day`` becomes due: 08:00 London time, as UTC."""
    local = dt.datetime.combine(day, dt.time(SEND_HOUR), tzinfo=LONDON)
    return local.astimezone(dt.UTC)


@dataclass(frozen=True)
class PlannedNotice:
    key: str
    kind: NoticeKind
    on: dt.date
    deadline: WriteUpKind | None  # which write-up clock it belongs to (None: the draft record)
    to: Literal["iro", "overdue_notice_to"]


def notices_for(review_ref: str, clock: WriteUpClock) -> list[PlannedNotice]:
    """The reminders to the IRO and the one overdue notice for one write-up clock."""
    planned = [
        PlannedNotice(
            reminder_key(review_ref, clock.kind, day), "writeup_reminder", day, clock.kind, "iro"
        )
        for day in clock.reminders
    ]
    planned.append(
        PlannedNotice(
            overdue_key(review_ref, clock.kind),
            "writeup_overdue",
            clock.overdue_on,
            clock.kind,
            "overdue_notice_to",
        )
    )
    return planned


@dataclass(frozen=True)
class HeldPlan:
    timeliness: Timeliness
    clocks: tuple[WriteUpClock, ...]
    notices: tuple[PlannedNotice, ...]  # the draft record first, then reminders and overdue notices
    next: NextReview | None  # None when the child has ceased to be looked after


def plan_held(
    rules: ReviewRules,
    calendar: Calendar,
    *,
    review_ref: str,
    sequence: int,
    due_on: dt.date,
    held_on: dt.date,
    ceased_on: dt.date | None = None,
) -> HeldPlan:
    clocks = start_clocks(rules.write_up, held_on, calendar)
    notices = [PlannedNotice(record_draft_key(review_ref), "review_record", held_on, None, "iro")]
    for clock in clocks:
        notices.extend(notices_for(review_ref, clock))
    following = None
    if ceased_on is None or ceased_on > held_on:
        following = next_review(
            rules.review_timescales,
            rules.mailout,
            calendar,
            held_sequence=sequence,
            held_on=held_on,
        )
    return HeldPlan(timeliness(held_on, due_on), clocks, tuple(notices), following)
