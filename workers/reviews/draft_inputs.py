"""What the store knows for a review's draft record beyond the review itself (issue 15 §1):
the previous review's decisions, the next review's date (reg 33), the child's open escalations.

The draft never states what the service does not know: a previous review not in the store, or
whose record was never read back, is named by its date for the IRO to copy from.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.core.workcalendar import WorkingCalendar
from workers.documents.contexts import OpenEscalation, PreviousDecision, PreviousRecord
from workers.escalation.refs import escalation_ref
from workers.reviews.calendar import Calendar
from workers.reviews.timescale import Timescales, next_review
from workers.store.models import Escalation, Review, ReviewDecision


def previous_review(session: Session, review: Review) -> Review | None:
    """The child's review held before this one, where the store has it."""
    if review.sequence <= 1:
        return None
    return session.scalars(
        select(Review)
        .where(Review.child_id == review.child_id, Review.sequence == review.sequence - 1,
               Review.status.in_(("held", "recorded")))
        .order_by(Review.id.desc())
        .limit(1)
    ).one_or_none()


def previous_record(session: Session, review: Review) -> PreviousRecord:
    if review.sequence <= 1:
        return PreviousRecord(first=True)
    before = previous_review(session, review)
    if before is None:
        return PreviousRecord(first=False)
    rows = session.scalars(
        select(ReviewDecision).where(ReviewDecision.review_id == before.id)
        .order_by(ReviewDecision.number)
    ).all()
    return PreviousRecord(
        first=False,
        held_on=before.held_on,
        decisions=tuple(
            PreviousDecision(number=d.number, action=d.action, responsible=d.responsible,
                             timescale=d.timescale, outcome=d.outcome, indicator=d.indicator)
            for d in rows
        ),
    )


def next_review_due(
    session: Session, review: Review, timescales: Timescales, mailout: object,
    calendar: Calendar | WorkingCalendar,
) -> dt.date | None:
    """The next review's latest date: the planned row's where the store has it, otherwise
    counted by reg 33 from the day this one was held."""
    following = session.scalars(
        select(Review).where(Review.child_id == review.child_id,
                             Review.sequence == review.sequence + 1,
                             Review.status == "planned")
    ).first()
    if following is not None:
        return following.due_on
    if review.held_on is None or review.child.ceased_on is not None:
        return None
    return next_review(timescales, mailout, calendar,  # type: ignore[arg-type]
                       held_sequence=review.sequence, held_on=review.held_on).due_on


def open_escalations(
    session: Session, review: Review, stage_titles: dict[str, str],
    category_titles: dict[str, str],
) -> list[OpenEscalation]:
    rows = session.scalars(
        select(Escalation).where(Escalation.child_id == review.child_id,
                                 Escalation.status == "open").order_by(Escalation.id)
    ).all()
    return [OpenEscalation(escalation_ref(e.id), category_titles.get(e.category, e.category),
                           stage_titles.get(e.stage, e.stage), e.raised_on) for e in rows]
