"""What the escalation machine needs from rules.yaml and the calendar, as small protocols.

``workers.config.rules.Stage``/``EscalationRules`` and
``workers.core.workcalendar.WorkingCalendar`` fit them;
keeping them as protocols keeps the machine pure and testable on its own. The dates themselves
come from ``workers.core.planning`` (one calculation for every caller).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from workers.config.offsets import Offset
from workers.core import planning
from workers.errors import BadInputError


class StageLike(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def recipients(self) -> Sequence[str]: ...

    @property
    def response_due(self) -> Offset | None: ...

    @property
    def template(self) -> str: ...

    @property
    def auto_advance_on_timeout(self) -> bool: ...


class CalendarLike(Protocol):
    def apply(self, offset: Offset, anchor_date: dt.date, statutory: bool = False) -> dt.date: ...

    def between(self, a: dt.date, b: dt.date, statutory: bool = False) -> int: ...


# The stage a CAFCASS referral goes to; the IRO may refer at any point (IRO Handbook 2010, 7.11),
# alongside the local authority's own procedure.
CAFCASS = "cafcass"


@dataclass(frozen=True)
class Policy:
    """The escalation rules in force: ordered stages, total ceiling, categories, calendar.

    Escalation timescales are the council's own procedure, not reg 33, so they are *internal*
    working days: local closure days extend them.
    """

    stages: Sequence[StageLike]
    total_ceiling: Offset
    categories: frozenset[str]
    calendar: CalendarLike

    def stage(self, key: str) -> StageLike:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise BadInputError(
            f"unknown escalation stage {key!r}; rules.yaml escalation.stages has "
            f"{', '.join(s.key for s in self.stages)}"
        )

    def index(self, key: str) -> int:
        return [s.key for s in self.stages].index(self.stage(key).key)

    def next_stage(self, key: str) -> StageLike | None:
        """The next stage of the local authority's ladder (CAFCASS is reached only by referral
        or by advancing from the last internal stage)."""
        i = self.index(key)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    def has_cafcass(self) -> bool:
        return any(s.key == CAFCASS for s in self.stages)

    def response_due(self, stage_key: str, started_on: dt.date) -> dt.date | None:
        self.stage(stage_key)  # an unknown stage is refused naming the stages rules.yaml has
        return planning.response_due_date(
            self, self.calendar, stage=stage_key, stage_started_on=started_on
        )

    def ceiling_date(self, raised_on: dt.date) -> dt.date:
        return planning.ceiling_date(self, self.calendar, raised_on=raised_on)

    def working_days(self, start: dt.date, end: dt.date) -> int:
        return self.calendar.between(start, end, statutory=False)

    @classmethod
    def from_rules(cls, escalation_rules: EscalationRulesLike, calendar: CalendarLike) -> Policy:
        return cls(
            stages=tuple(escalation_rules.stages),
            total_ceiling=escalation_rules.total_ceiling,
            categories=frozenset(c.key for c in escalation_rules.categories),
            calendar=calendar,
        )


class CategoryLike(Protocol):
    @property
    def key(self) -> str: ...


class EscalationRulesLike(Protocol):
    @property
    def stages(self) -> Sequence[StageLike]: ...

    @property
    def total_ceiling(self) -> Offset: ...

    @property
    def categories(self) -> Sequence[CategoryLike]: ...
