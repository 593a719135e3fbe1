"""The quarterly report's facts from the store: one row per escalation that touches the quarters.

Escalations are few (tens a quarter at a large council), so each is read whole and its working
days counted with the service's own calendar, as the escalation pages count them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from workers.escalation.policy import Policy
from workers.report.quarterly import EscalationFact, MidwayFact, Quarter
from workers.store.models import Deadline, Escalation, MidwayCheck

MIDWAY = "midway"  # Deadline.kind (workers/midway)


def escalation_facts(session: Session, policy: Policy, first: Quarter,
                     last: Quarter) -> list[EscalationFact]:
    """Every escalation raised by ``last``'s end and open (or resolved) on or after ``first``'s
    start; working days run to the resolution, or to ``last``'s end while open."""
    start, end = first.period.start, last.period.end
    rows = session.scalars(
        select(Escalation)
        .where(Escalation.raised_on <= end,
               or_(Escalation.resolved_on.is_(None), Escalation.resolved_on >= start))
        .options(selectinload(Escalation.steps))
        .order_by(Escalation.id)
    ).all()
    return [_fact(policy, row, end) for row in rows]


def _fact(policy: Policy, row: Escalation, end: dt.date) -> EscalationFact:
    raised = next((s.stage for s in row.steps if s.action == "raised"), row.stage)
    resolved_on = row.resolved_on if row.status == "resolved" else None
    until = resolved_on if resolved_on is not None and resolved_on <= end else end
    return EscalationFact(
        child=row.child_id,
        category=row.category,
        raised_on=row.raised_on,
        raised_stage=raised,
        resolved_on=resolved_on,
        resolved_stage=row.resolved_stage,
        stage=row.stage,
        cafcass_referred_on=row.cafcass_referred_on,
        ceiling_on=policy.ceiling_date(row.raised_on),
        working_days=max(0, policy.working_days(row.raised_on, until)),
    )


def midway_facts(session: Session, first: Quarter, last: Quarter) -> list[MidwayFact]:
    """Every midway check due by ``last``'s end and not done before ``first``'s start."""
    start, end = first.period.start, last.period.end
    rows = session.execute(
        select(Deadline.due_on, MidwayCheck.checked_on, MidwayCheck.outcome,
               MidwayCheck.escalation_id)
        .outerjoin(MidwayCheck, MidwayCheck.deadline_id == Deadline.id)
        .where(Deadline.kind == MIDWAY, Deadline.due_on <= end,
               or_(MidwayCheck.checked_on.is_(None), MidwayCheck.checked_on >= start))
    ).all()
    return [MidwayFact(due, checked, outcome == "concern", escalation is not None)
            for due, checked, outcome, escalation in rows]
