"""What is due: each child's next statutory review and every open deadline, with working days left.

Reads the store (the caller owns the session); the dates come from planning and the calendar.
Rows carry a child's reference and initials only, never a name: they end up on screens and in
spreadsheets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from workers.core.planning import ReviewTimescalesLike, statutory_due_date
from workers.core.planning_inputs import PlanningCalendar
from workers.core.workcalendar import WorkingCalendar
from workers.store.models import CarePeriod, Child, Deadline, Escalation, Review

REVIEW_DUE = "review_due"
# A review in these states no longer needs its deadlines met; nor does a resolved escalation.
_CLOSED_REVIEW_STATES = frozenset({"cancelled"})


@dataclass(frozen=True)
class DueItem:
    due_on: dt.date
    working_days_left: int  # negative: overdue by that many working days
    kind: str  # review_due | decisions | record | escalation_response | ...
    statutory: bool  # counted in statutory working days (reg 33) rather than internal ones
    child_ref: str
    initials: str
    review_ref: str | None
    escalation_id: int | None
    iro_email: str
    planned: bool  # False when no review is planned yet and the date is worked out from the rules
    # by date, not by count: a date on a Saturday is past on the Monday although no working day
    # lies between them
    overdue: bool


def due_items(
    session: Session,
    calendar: WorkingCalendar,
    timescales: ReviewTimescalesLike,
    *,
    today: dt.date,
    overdue_only: bool = False,
    due_within: int | None = None,
    iro_email: str | None = None,
) -> list[DueItem]:
    """Every child's next review and open deadline, sorted by date; ceased children left out.

    ``due_within`` keeps items due within that many working days of ``today``, overdue ones
    included (they are the most urgent); ``overdue_only`` keeps items whose date has passed.
    """
    children = {
        c.id: c
        for c in session.scalars(
            select(Child).where(Child.ceased_on.is_(None)).options(selectinload(Child.reviews))
        )
    }
    starts = care_period_starts(session)
    items: list[DueItem] = []
    listed_reviews: set[int] = set()
    for child in children.values():
        item, review_id = _next_review(child, calendar, timescales, today, starts.get(child.id))
        items.append(item)
        if review_id is not None:
            listed_reviews.add(review_id)

    rows = session.execute(
        select(Deadline, Review, Escalation)
        .outerjoin(Review, Deadline.review_id == Review.id)
        .outerjoin(Escalation, Deadline.escalation_id == Escalation.id)
        .where(Deadline.met_on.is_(None))
    )
    for deadline, review, escalation in rows:
        if deadline.kind == REVIEW_DUE and deadline.review_id in listed_reviews:
            continue  # already shown as the child's next review
        if review is not None and review.status in _CLOSED_REVIEW_STATES:
            continue
        if escalation is not None and escalation.status == "resolved":
            continue
        child_id = review.child_id if review is not None else None
        if child_id is None and escalation is not None:
            child_id = escalation.child_id
        owner_child = children.get(child_id) if child_id is not None else None
        if owner_child is None:
            continue  # the child has ceased to be looked after (or the row is orphaned)
        owner = (
            review.iro_email
            if review is not None
            else (escalation.iro_email if escalation is not None else owner_child.iro_email)
        )
        items.append(
            DueItem(
                due_on=deadline.due_on,
                working_days_left=calendar.between(today, deadline.due_on, deadline.statutory),
                kind=deadline.kind,
                statutory=deadline.statutory,
                child_ref=owner_child.ref,
                initials=owner_child.initials,
                review_ref=review.ref if review is not None else None,
                escalation_id=deadline.escalation_id,
                iro_email=owner,
                # a mail-out waits while its review has no meeting date, time or venue
                planned=not (deadline.kind == "mailout" and review is not None
                             and not has_meeting(review)),
                overdue=deadline.due_on < today,
            )
        )
    return sorted(
        _filter(items, overdue_only, due_within, iro_email),
        key=lambda i: (i.due_on, i.child_ref, i.kind),
    )


def next_review_of(
    child: Child, calendar: PlanningCalendar, timescales: ReviewTimescalesLike,
    period_start: dt.date | None = None,
) -> tuple[dt.date, Review | None]:
    """The child's next review date and the planned review it is, if one is planned: the planned
    review with the earliest due date; if none, the date reg 33 gives from the last held review
    (or from the day the child became looked after). ``children.next_review_due`` stores this
    (``workers.store.next_review``), so the lists can sort and filter on it in SQL."""
    planned = [r for r in child.reviews if r.status == "planned"]
    if planned:
        review = min(planned, key=lambda r: (r.due_on, r.sequence))
        return review.due_on, review
    held = [r for r in child.reviews if r.held_on is not None
            and (period_start is None or r.held_on >= period_start)]
    last = max(held, key=lambda r: (r.held_on or dt.date.min, r.sequence), default=None)
    due = statutory_due_date(
        timescales,
        calendar,
        looked_after_since=child.looked_after_since,
        sequence=last.sequence + 1 if last is not None else 1,
        previous_review_on=last.held_on if last is not None else None,
    )
    return due, None


def _next_review(
    child: Child, calendar: WorkingCalendar, timescales: ReviewTimescalesLike, today: dt.date,
    period_start: dt.date | None = None,
) -> tuple[DueItem, int | None]:
    due, review = next_review_of(child, calendar, timescales, period_start)
    if review is not None:
        ref, owner, review_id = review.ref, review.iro_email, review.id
    else:
        ref, owner, review_id = None, child.iro_email, None
    item = DueItem(
        due_on=due,
        working_days_left=calendar.between(today, due, statutory=True),
        kind=REVIEW_DUE,
        statutory=True,
        child_ref=child.ref,
        initials=child.initials,
        review_ref=ref,
        escalation_id=None,
        iro_email=owner,
        planned=review_id is not None,
        overdue=due < today,
    )
    return item, review_id


def care_period_starts(session: Session, child_ids: Iterable[int] | None = None,
                       ) -> dict[int, dt.date]:
    """Each child's latest period of care's first day (903 care_periods): reg 33 starts again
    with each, so reviews held in an earlier period do not count towards the next one."""
    query = select(CarePeriod.child_id, func.max(CarePeriod.started_on)).group_by(
        CarePeriod.child_id)
    if child_ids is not None:
        query = query.where(CarePeriod.child_id.in_(list(child_ids)))
    return {child_id: started for child_id, started in session.execute(query)}


def _filter(
    items: Iterable[DueItem],
    overdue_only: bool,
    due_within: int | None,
    iro_email: str | None,
) -> Iterable[DueItem]:
    wanted_iro = iro_email.strip().lower() if iro_email else None
    for item in items:
        if wanted_iro is not None and item.iro_email.lower() != wanted_iro:
            continue
        if overdue_only and not item.overdue:
            continue
        if due_within is not None and item.working_days_left > due_within:
            continue
        yield item


def has_meeting(review: Review) -> bool:
    """A meeting date and time and a venue: what a mail-out needs before it may go (issue 16)."""
    return review.scheduled_at is not None and bool((review.venue or "").strip())
