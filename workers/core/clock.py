"""The one clock: every "now" and "today" the service acts on comes from a ``Clock`` passed down.

Commands, pages, workers and the scheduler each get theirs from where they start
(``AppContext.clock``, ``create_app(clock=...)``, ``Dispatcher.clock``, ``Scheduler.clock``) and
hand it on; nothing else asks the machine what day it is (``tests/test_clock_rule.py`` keeps it
so). A test that needs a date sets it here, so the suite passes on any day it runs.

"Today" is London's date, whatever zone the server's clock is set to: a server on UTC is an hour
behind London all summer, and between midnight and 1 am BST its ``date.today()`` is yesterday, so
a step recorded then would be back-dated by a day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
WORKDAY_MORNING = dt.time(9, 30)  # the time of day a clock set to a date starts at


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> dt.date:
        """The current date in London."""
        ...


def london_date(moment: dt.datetime) -> dt.date:
    """The date in London at ``moment`` (an aware datetime)."""
    return moment.astimezone(LONDON).date()


def london_moment(day: dt.date, at: dt.time = WORKDAY_MORNING) -> dt.datetime:
    """``day`` at ``at`` London time, as aware UTC."""
    return dt.datetime.combine(day, at, tzinfo=LONDON).astimezone(dt.UTC)


def london_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The London day ``day`` as aware UTC: its first moment and the next day's (a moment at
    00:30 BST on the 1st is the 1st's, though it is still the 31st in UTC)."""
    return (london_moment(day, dt.time(0)),
            london_moment(day + dt.timedelta(days=1), dt.time(0)))


@dataclass(frozen=True)
class SystemClock:
    """The machine's clock, moved by ``offset`` (zero in production).

    A shifted clock keeps running, so leases, back-offs and rate windows behave as they do live:
    ``SystemClock.starting_on(day)`` is the service as it will be on ``day``.
    """

    offset: dt.timedelta = field(default=dt.timedelta(0))

    @classmethod
    def starting_on(cls, day: dt.date, at: dt.time = WORKDAY_MORNING) -> SystemClock:
        return cls(london_moment(day, at) - _machine_now())

    def now(self) -> dt.datetime:
        return _machine_now() + self.offset

    def today(self) -> dt.date:
        return london_date(self.now())


@dataclass
class FixedClock:
    """A clock that moves only when told: for tests that step through days or minutes."""

    moment: dt.datetime

    def __post_init__(self) -> None:
        if self.moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.moment = self.moment.astimezone(dt.UTC)

    @classmethod
    def on(cls, day: dt.date, at: dt.time = WORKDAY_MORNING) -> FixedClock:
        return cls(london_moment(day, at))

    def now(self) -> dt.datetime:
        return self.moment

    def today(self) -> dt.date:
        return london_date(self.moment)

    def advance(self, by: dt.timedelta) -> None:
        self.moment += by

    def set(self, moment: dt.datetime) -> None:
        self.moment = moment.astimezone(dt.UTC)


SYSTEM_CLOCK = SystemClock()


def wall_now() -> dt.datetime:
    """The machine's clock, for bookkeeping stamps only: when a row was written (``created_at``,
    ``updated_at`` column defaults). Never for a decision: those take the injected clock."""
    return _machine_now()


def _machine_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
