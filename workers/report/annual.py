"""Gather the annual report: every figure for one period, and escalations beside earlier years."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from workers.qa.counts import qa_results
from workers.report import queries
from workers.report.figures import AnnualReport, Period
from workers.survey.counts import survey_results

if TYPE_CHECKING:
    from workers.config.rules import Rules

# The formal stages the annual report counts resolutions at (rules.yaml escalation.stages,
# without the informal one, which is recorded on file rather than escalated).
DEFAULT_STAGES = (
    "deputy_manager", "group_manager", "head_of_service", "assistant_director", "cafcass",
)


def build_report(
    session: Session,
    period: Period,
    *,
    standard_days: int = 15,
    stages: Sequence[str] = DEFAULT_STAGES,
    earlier_years: int = 2,
) -> AnnualReport:
    """Every figure for ``period``; escalations also for up to ``earlier_years`` years before it,
    where the store holds any."""
    earlier = tuple(
        queries.escalations(session, back)
        for back in (period.years_back(n) for n in range(1, earlier_years + 1))
        if queries.has_escalations(session, back)
    )
    return AnnualReport(
        period=period,
        population=queries.population(session, period),
        reviews=queries.reviews(session, period),
        write_up=queries.write_up(session, period, standard_days),
        participation=queries.participation(session, period),
        consultation=queries.consultation_returns(session, period),
        questionnaires=queries.questionnaire_returns(session, period),
        escalations=(queries.escalations(session, period), *earlier),
        stages=tuple(stages),
        survey=survey_results(session, period.start, period.end),
        qa=qa_results(session, period.start, period.end),
    )


def report_for(session: Session, rules: Rules, period: Period, *,
               earlier_years: int = 2) -> AnnualReport:
    """The report as rules.yaml defines it (the record's write-up standard, the formal stages):
    what `iro report` prints and the manager's page shows."""
    return build_report(
        session, period,
        standard_days=rules.write_up.record.due.amount,
        stages=tuple(s.key for s in rules.escalation.stages if s.key != "informal"),
        earlier_years=earlier_years,
    )
