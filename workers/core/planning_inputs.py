"""What pure planning (``workers.core.planning``) reads of the calendar and the rules.

Protocols only, so planning can be read and type-checked without the rules' pydantic models or
the calendar's holiday tables: ``workers.core.workcalendar.WorkingCalendar`` and the
``workers.config.rules``
models satisfy them, and so do the plain dataclasses the tests use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from workers.config.offsets import Offset

# --- what planning reads of the calendar (workers.core.workcalendar.WorkingCalendar satisfies it)


class OffsetCalendar(Protocol):
    def apply(self, offset: Offset, anchor_date: dt.date, statutory: bool = ...) -> dt.date: ...


class PlanningCalendar(OffsetCalendar, Protocol):
    def add(self, d: dt.date, n: int, statutory: bool = ...) -> dt.date: ...


# --- what planning reads from the rules (workers.config.rules satisfies these) -------------------


class LaterTimescalesLike(Protocol):
    """The timescales of the second and later reviews, counted from the previous one."""

    @property
    def second(self) -> Offset: ...
    @property
    def subsequent(self) -> Offset: ...


class ReviewTimescalesLike(LaterTimescalesLike, Protocol):
    @property
    def first(self) -> Offset: ...


class ReminderLike(Protocol):
    @property
    def at(self) -> Offset: ...
    @property
    def to(self) -> Sequence[str]: ...
    @property
    def only_if_not_returned(self) -> bool: ...


class MailoutRulesLike(Protocol):
    @property
    def invitations(self) -> Offset: ...
    @property
    def consultation_forms(self) -> Offset: ...
    @property
    def return_by(self) -> Offset: ...
    @property
    def reminders(self) -> Sequence[ReminderLike]: ...


class DeadlineRuleLike(Protocol):
    @property
    def due(self) -> Offset: ...
    @property
    def reminders(self) -> Sequence[Offset]: ...


class WriteUpRulesLike(Protocol):
    @property
    def decisions(self) -> DeadlineRuleLike: ...
    @property
    def record(self) -> DeadlineRuleLike: ...
    @property
    def overdue_notice_to(self) -> str: ...


class StageLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def response_due(self) -> Offset | None: ...


class EscalationRulesLike(Protocol):
    @property
    def stages(self) -> Sequence[StageLike]: ...
    @property
    def total_ceiling(self) -> Offset: ...
