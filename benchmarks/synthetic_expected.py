"""The synthetic year's figures from its Python tallies: the answer the SQL must reproduce."""

from __future__ import annotations

from itertools import accumulate
from typing import TYPE_CHECKING

from workers.report.figures import (
    AnnualReport,
    EscalationYear,
    IroMonth,
    Participation,
    Population,
    ReturnRate,
    Reviews,
    WriteUp,
)

if TYPE_CHECKING:
    from benchmarks.synthetic_year import Synthetic


def _rates(data: Synthetic, what: str) -> tuple[ReturnRate, ...]:
    t = data.t
    roles = sorted(role for kind, role in t.sent if kind == what)
    return tuple(ReturnRate(r, t.sent[(what, r)], t.returned[(what, r)]) for r in roles)


def expected_report(data: Synthetic) -> AnnualReport:
    t, period = data.t, data.period
    daily = list(accumulate(t.in_care[: data.days]))  # the count on each day of the period
    per_month = tuple(
        IroMonth(iro, y, m, n) for (iro, y, m), n in sorted(t.per_iro_month.items())
    )
    years = tuple(
        EscalationYear(
            period=period.years_back(back),
            children=len(t.escalated[back]),
            resolved_by_stage=dict(t.resolved.get(back, {})),
            cafcass_referred=t.referred[back],
            open=t.still_open[back],
        )
        for back in sorted(t.escalated)
    )
    return AnnualReport(
        period=period,
        population=Population(
            at_start=daily[0],
            at_end=daily[-1],
            fewest=min(daily),
            most=max(daily),
            admissions=t.admissions,
            leavers=t.leavers,
        ),
        reviews=Reviews(
            held=sum(t.per_iro_month.values()),
            timescale_known=t.timescale_known,
            in_timescale=t.in_timescale,
            per_iro_month=per_month,
            period_months=period.months,
        ),
        write_up=WriteUp(
            standard_days=15,
            reviews=t.records,
            recorded=t.recorded,
            within_standard=t.within,
            average_working_days=round(t.days_sum / t.recorded, 2) if t.recorded else None,
        ),
        participation=Participation(dict(t.codes)),
        consultation=_rates(data, "form"),
        questionnaires=_rates(data, "questionnaire"),
        escalations=years,
    )
