"""Review timescales: in or out of timescale, the next review's date and kind, an early review.

Care Planning, Placement and Case Review (England) Regulations 2010, reg 33: the first review
within 20 working days of the child becoming looked after; the second not more than three months
after the first; later ones at intervals of not more than six months. A review may be held earlier
at any time (reg 34; IRO Handbook 2010, chapter 3). Statutory dates count weekends and bank
holidays only, never local closures; the day a meeting is held and the letters before it are
internal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol

from workers.config.offsets import Offset
from workers.core import planning
from workers.reviews.calendar import Calendar

ReviewKind = Literal["first", "second", "subsequent"]


class Timescales(Protocol):
    @property
    def second(self) -> Offset: ...

    @property
    def subsequent(self) -> Offset: ...


class Mailout(Protocol):
    @property
    def invitations(self) -> Offset: ...


def review_kind(sequence: int) -> ReviewKind:
    """1 → first, 2 → second, 3 and later → subsequent (reg 33)."""
    if sequence < 1:
        raise ValueError(f"a review's sequence starts at 1, got {sequence}")
    return "first" if sequence == 1 else "second" if sequence == 2 else "subsequent"


@dataclass(frozen=True)
class Timeliness:
    in_timescale: bool
    days_late: int  # calendar days after the statutory date; 0 when in timescale


def timeliness(held_on: dt.date, due_on: dt.date) -> Timeliness:
    """A review held after its statutory date is out of timescale by that many calendar days."""
    late = (held_on - due_on).days
    return Timeliness(in_timescale=late <= 0, days_late=max(late, 0))


def latest_meeting_date(due_on: dt.date, calendar: Calendar) -> dt.date:
    """The last day on or before the statutory date the office is open to hold the meeting."""
    day = due_on
    while not calendar.is_working_day(day, statutory=False):
        day -= dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class NextReview:
    sequence: int
    kind: ReviewKind
    due_on: dt.date  # the latest date reg 33 allows (statutory)
    meeting_on: dt.date  # the planned meeting: the last open day on or before due_on
    invitations_on: dt.date  # when its invitation round goes (mail-out rules, internal days)


def next_review(
    timescales: Timescales,
    mailout: Mailout,
    calendar: Calendar,
    *,
    held_sequence: int,
    held_on: dt.date,
) -> NextReview:
    """The review after the one held on ``held_on``: counted from the date it was actually held."""
    sequence = held_sequence + 1
    due_on = planning.later_review_due_date(
        timescales, calendar, sequence=sequence, previous_review_on=held_on
    )
    return _planned(mailout, calendar, sequence, due_on, latest_meeting_date(due_on, calendar))


def early_review(
    mailout: Mailout,
    calendar: Calendar,
    *,
    sequence: int,
    due_on: dt.date,
    requested_on: dt.date,
    today: dt.date | None = None,
) -> NextReview:
    """An earlier review asked for on ``requested_on``; the statutory date stays as it was.

    Raises ValueError (the caller turns it into a clear refusal) when the date is after the
    statutory date (that would be a late review, not an early one) or is not an open day.
    """
    if requested_on > due_on:
        raise ValueError(
            f"{requested_on.isoformat()} is after the statutory date {due_on.isoformat()}; "
            "an earlier review must be on or before it"
        )
    if today is not None and requested_on < today:
        raise ValueError(f"{requested_on.isoformat()} is in the past")
    if not calendar.is_working_day(requested_on, statutory=False):
        raise ValueError(f"{requested_on.isoformat()} is not a working day")
    return _planned(mailout, calendar, sequence, due_on, requested_on)


def _planned(
    mailout: Mailout, calendar: Calendar, sequence: int, due_on: dt.date, meeting_on: dt.date
) -> NextReview:
    return NextReview(
        sequence=sequence,
        kind=review_kind(sequence),
        due_on=due_on,
        meeting_on=meeting_on,
        invitations_on=planning.mailout_day(
            "invitations", mailout.invitations, calendar, review_on=meeting_on
        ),
    )
