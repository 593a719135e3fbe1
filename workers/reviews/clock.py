"""The write-up clocks started when a review is held: decisions and the full review record.

IRO Handbook (2010), chapter 3, and the service standard in the annual report: the decisions within
5 working days and the record within 15 working days of the meeting (rules.yaml ``write_up``).
These are internal deadlines, so local closure days extend them. The IRO is reminded at the
rules' offsets before each deadline; the working day after a deadline passes unmet, the IRO manager
is told it is overdue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from workers.config.offsets import Offset
from workers.core import planning
from workers.reviews.calendar import Calendar

WriteUpKind = Literal["decisions", "record"]
WRITE_UP_KINDS: tuple[WriteUpKind, ...] = ("decisions", "record")


class DeadlineRule(Protocol):
    @property
    def due(self) -> Offset: ...

    @property
    def reminders(self) -> Sequence[Offset]: ...


class WriteUp(Protocol):
    @property
    def decisions(self) -> DeadlineRule: ...

    @property
    def record(self) -> DeadlineRule: ...


@dataclass(frozen=True)
class WriteUpClock:
    kind: WriteUpKind
    started_on: dt.date  # the day the review was held
    due_on: dt.date
    reminders: tuple[dt.date, ...]  # ascending, each after the meeting and before the due date
    overdue_on: dt.date  # the working day after due_on: the IRO manager is told if still unmet


def overdue_on(due_on: dt.date, calendar: Calendar) -> dt.date:
    """The first internal working day after the deadline."""
    return planning.overdue_notice_day(due_on, calendar)


def start_clock(
    rule: DeadlineRule, kind: WriteUpKind, held_on: dt.date, calendar: Calendar
) -> WriteUpClock:
    """The dates come from ``workers.core.planning.write_up_deadline`` (reminders kept only strictly
    between the meeting and the deadline)."""
    planned = planning.write_up_deadline(kind, rule, calendar, held_on=held_on)
    assert planned.overdue_notice_on is not None  # write-up deadlines always have one
    return WriteUpClock(
        kind, held_on, planned.due_on, planned.reminders, planned.overdue_notice_on
    )


def start_clocks(
    write_up: WriteUp, held_on: dt.date, calendar: Calendar
) -> tuple[WriteUpClock, ...]:
    return (
        start_clock(write_up.decisions, "decisions", held_on, calendar),
        start_clock(write_up.record, "record", held_on, calendar),
    )


@dataclass(frozen=True)
class ClockStop:
    met_on: dt.date
    working_days_taken: int  # internal working days after the meeting, up to and including met_on
    in_time: bool


def stop_clock(
    started_on: dt.date, due_on: dt.date, met_on: dt.date, calendar: Calendar
) -> ClockStop:
    if met_on < started_on:
        raise ValueError(
            f"{met_on.isoformat()} is before the review was held ({started_on.isoformat()})"
        )
    taken = calendar.between(started_on, met_on, statutory=False)
    return ClockStop(met_on=met_on, working_days_taken=taken, in_time=met_on <= due_on)
