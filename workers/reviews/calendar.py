"""The little the review rules need of a working-day calendar.

That is ``workers.core.workcalendar.WorkingCalendar``; a Protocol, so the pure core can be read
and type-checked without the calendar's module.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from workers.config.offsets import Offset


class Calendar(Protocol):
    def is_working_day(self, d: dt.date, statutory: bool = ...) -> bool: ...

    def is_bank_holiday(self, d: dt.date) -> bool: ...

    def add(self, d: dt.date, n: int, statutory: bool = ...) -> dt.date: ...

    def between(self, a: dt.date, b: dt.date, statutory: bool = ...) -> int: ...

    def apply(self, offset: Offset, anchor_date: dt.date, statutory: bool = ...) -> dt.date: ...
