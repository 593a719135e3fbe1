"""Recording a midway check: the IRO's finding, and a concern turned into an escalation in one
step. The caller commits; the check, its audit event and any escalation go in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.midway import plan
from workers.midway.scan import KIND, ensure_for_child
from workers.reviews import records
from workers.reviews.notices import NoticeConfig
from workers.store.audit import record as audit
from workers.store.models import Deadline, MidwayCheck, Review

if TYPE_CHECKING:
    from workers.escalation.service import EscalationService

OUTCOMES = ("on_track", "concern")
NOTE_MAX = 4000


@dataclass(frozen=True)
class Recorded:
    check: MidwayCheck
    review_ref: str
    due_on: dt.date
    escalation_id: int | None


def record(
    session: Session,
    cfg: NoticeConfig,
    *,
    child_ref: str,
    outcome: str,
    note: str,
    by: str,
    on: dt.date,
    today: dt.date,
    escalations: EscalationService | None = None,
    category: str | None = None,
) -> Recorded:
    """Record the check that follows the child's latest review held."""
    if outcome not in OUTCOMES:
        raise BadInputError(f"--outcome: expected one of {', '.join(OUTCOMES)}, got {outcome!r}")
    if len(note) > NOTE_MAX:
        raise BadInputError(f"--note: at most {NOTE_MAX} characters, got {len(note)}")
    if category is not None and outcome != "concern":
        raise BadInputError("--escalate goes with --outcome concern")
    if on > today:
        raise BadInputError(f"--on {on.isoformat()} is after today ({today.isoformat()})")
    child = records.child_by_ref(session, child_ref)
    ensure_for_child(session, cfg, child, today)
    found = session.execute(
        select(Deadline, Review)
        .join(Review, Deadline.review_id == Review.id)
        .where(Review.child_id == child.id, Deadline.kind == KIND, Deadline.met_on.is_(None))
        .order_by(Deadline.due_on.desc())
        .limit(1)
    ).one_or_none()
    if found is None:
        raise NotFoundError(
            f"no midway check is open for {child_ref}: one falls due once a review has been held "
            "and the next is planned (`iro deadlines` lists them)"
        )
    deadline, review = found
    if review.held_on is not None and on < review.held_on:
        raise BadInputError(
            f"--on {on.isoformat()} is before the review it follows ({review.ref}, held "
            f"{review.held_on.isoformat()})"
        )
    escalation_id = None
    if category is not None:
        if escalations is None:
            raise RefusedError("an escalation was asked for but no escalation service was given")
        raised = escalations.raise_(child.ref, concern=note or "Midway check: decisions not "
                                    "carried out", category=category, review_ref=review.ref,
                                    iro_email=review.iro_email, on=on)
        escalation_id = raised.id
    check = MidwayCheck(deadline_id=deadline.id, review_id=review.id, checked_on=on,
                        outcome=outcome, note=note, by=by, escalation_id=escalation_id)
    session.add(check)
    deadline.met_on = on
    deadline.in_time = on <= deadline.due_on
    deadline.working_days_taken = cfg.calendar.between(deadline.started_on, on, statutory=False)
    records.cancel_pending(session, plan.deadline_key(review.ref) + "/reminder/")
    session.flush()
    audit(session, "midway.recorded", "review", review.id, actor=by or review.iro_email,
          outcome=outcome, check=check.id, escalation=escalation_id)
    return Recorded(check, review.ref, deadline.due_on, escalation_id)
