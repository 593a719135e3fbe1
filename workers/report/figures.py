"""The annual report's figures as plain values: what the queries return and the formatters read.

Pure: no database, no I/O. Percentages are computed here from counts, so every output format
(table, csv, json, docx) shows the same rounding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.qa.counts import QaResults
    from workers.survey.counts import SurveyResults


def percent(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` to two places; None when there is nothing to divide."""
    return round(100.0 * part / whole, 2) if whole else None


@dataclass(frozen=True)
class Period:
    """Calendar dates, both inclusive (a report year is 1 April to 31 March)."""

    start: dt.date
    end: dt.date

    def years_back(self, years: int) -> Period:
        """The same dates ``years`` earlier (29 February becomes 28 February)."""
        from dateutil.relativedelta import relativedelta

        back = relativedelta(years=years)
        return Period(self.start - back, self.end - back)

    @property
    def label(self) -> str:
        if self.start.month == 4 and self.start.day == 1 and self.end == self.start.replace(
            year=self.start.year + 1
        ) - dt.timedelta(days=1):
            # a financial year, in the annual report's style: 2013/14
            return f"{self.start.year}/{str(self.start.year + 1)[2:]}"
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @property
    def months(self) -> tuple[tuple[int, int], ...]:
        """Every calendar month the period touches, as (year, month), in order."""
        out: list[tuple[int, int]] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(out)


@dataclass(frozen=True)
class Population:
    """Looked after children: a child counts on day d if looked after since d or earlier and not
    ceased on or before d (the SSDA903 episode-ceased date is the first day out of care)."""

    at_start: int
    at_end: int
    fewest: int
    most: int
    admissions: int
    leavers: int


@dataclass(frozen=True)
class IroMonth:
    iro: str
    year: int
    month: int
    reviews: int


@dataclass(frozen=True)
class Reviews:
    held: int
    timescale_known: int  # held reviews whose timeliness was recorded
    in_timescale: int
    per_iro_month: tuple[IroMonth, ...] = ()
    # The period's months: a month an IRO chaired nothing still counts in their average.
    period_months: tuple[tuple[int, int], ...] = ()

    @property
    def in_timescale_pct(self) -> float | None:
        return percent(self.in_timescale, self.timescale_known)

    @property
    def iros(self) -> tuple[str, ...]:
        return tuple(sorted({m.iro for m in self.per_iro_month}))

    @property
    def months(self) -> tuple[tuple[int, int], ...]:
        held = {(m.year, m.month) for m in self.per_iro_month}
        return tuple(sorted(held | set(self.period_months)))

    @property
    def average_per_iro_month(self) -> float | None:
        """Reviews per IRO per month, the plain rate: reviews held / (IROs x months), so a month
        an IRO chaired none counts (averaging only the months with a review overstated it)."""
        if not self.per_iro_month:
            return None
        held = sum(m.reviews for m in self.per_iro_month)
        return round(held / (len(self.iros) * len(self.months)), 2)


@dataclass(frozen=True)
class WriteUp:
    """The full review record (IRO Handbook 2010 §3.77: within 15 working days of the meeting)."""

    standard_days: int
    reviews: int  # held reviews with a record deadline
    recorded: int
    within_standard: int
    average_working_days: float | None

    @property
    def outstanding(self) -> int:
        return self.reviews - self.recorded

    @property
    def within_pct(self) -> float | None:
        return percent(self.within_standard, self.recorded)


# SSDA903: PN0 is a child under 4; PN7 is a child who neither attended nor had views conveyed.
UNDER_FOUR = "PN0"
NO_VIEWS = "PN7"
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class Participation:
    by_code: dict[str, int] = field(default_factory=dict)  # PN0…PN7 and "not recorded"

    @property
    def over_four(self) -> int:
        return sum(n for code, n in self.by_code.items() if code not in (UNDER_FOUR, NOT_RECORDED))

    @property
    def took_part(self) -> int:
        return self.over_four - self.by_code.get(NO_VIEWS, 0)

    @property
    def took_part_pct(self) -> float | None:
        return percent(self.took_part, self.over_four)


@dataclass(frozen=True)
class ReturnRate:
    role: str
    sent: int
    returned: int

    @property
    def pct(self) -> float | None:
        return percent(self.returned, self.sent)


@dataclass(frozen=True)
class EscalationYear:
    period: Period
    children: int  # children with an escalation raised in the period
    resolved_by_stage: dict[str, int] = field(default_factory=dict)  # children, by resolving stage
    cafcass_referred: int = 0
    open: int = 0  # children with an escalation raised in the period and not yet resolved


@dataclass(frozen=True)
class AnnualReport:
    period: Period
    population: Population
    reviews: Reviews
    write_up: WriteUp
    participation: Participation
    consultation: tuple[ReturnRate, ...]
    questionnaires: tuple[ReturnRate, ...]
    escalations: tuple[EscalationYear, ...]  # this period first, then earlier years with data
    stages: tuple[str, ...] = (
        "deputy_manager", "group_manager", "head_of_service", "assistant_director", "cafcass",
    )
    survey: SurveyResults | None = None  # Appendix A, when a stakeholder survey ran (issue 20)
    qa: QaResults | None = None  # observations and record audits (§9.2-9.3), once recorded
