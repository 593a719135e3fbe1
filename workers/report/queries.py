"""The annual report's figures, computed in the database (SQLite and PostgreSQL alike).

Every figure is one aggregate query — GROUP BY, COUNT, AVG, a window SUM — so the time grows with
what the database scans, never with rows copied into Python. The session is passed in; nothing is
written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, distinct, extract, func, literal, or_, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import ColumnElement

from workers.core.clock import LONDON
from workers.report.figures import (
    NOT_RECORDED,
    Decisions,
    EscalationYear,
    IroMonth,
    Participation,
    Period,
    Population,
    ReturnRate,
    Reviews,
    WriteUp,
)
from workers.store.models import (
    Child,
    Deadline,
    Dispatch,
    Escalation,
    Participant,
    Return,
    Review,
    ReviewDecision,
)

RECORD_KIND = "record"  # Deadline.kind of the full review record (workers/reviews)
QUESTIONNAIRE_PREFIX = "questionnaire"  # Dispatch.kind of stakeholder questionnaires


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _within(column: InstrumentedAttribute[Any], period: Period) -> ColumnElement[bool]:
    return column.between(period.start, period.end)


def population(session: Session, period: Period) -> Population:
    """Fewest and most children looked after on any day, by an events sweep in SQL.

    Admissions add one on their day, leavers take one away on theirs; the running (window) sum of
    each day's net change over the period's baseline gives the count on every day that changed.
    """
    in_care_at_start = and_(
        Child.looked_after_since <= period.start,
        (Child.ceased_on.is_(None)) | (Child.ceased_on > period.start),
    )
    baseline = session.scalar(select(func.count()).where(in_care_at_start)) or 0
    # a same-day (or inverted) episode is never in care at the end of any day: neither event
    real_episode = Child.ceased_on.is_(None) | (Child.ceased_on > Child.looked_after_since)
    after_start = and_(
        Child.looked_after_since > period.start, Child.looked_after_since <= period.end,
        real_episode,
    )
    left_after_start = and_(
        Child.ceased_on > period.start, Child.ceased_on <= period.end, real_episode
    )
    events = union_all(
        select(Child.looked_after_since.label("day"), literal(1).label("delta")).where(after_start),
        select(Child.ceased_on.label("day"), literal(-1).label("delta")).where(left_after_start),
    ).subquery("events")
    daily = (
        select(events.c.day, func.sum(events.c.delta).label("net"))
        .group_by(events.c.day)
        .subquery("daily")
    )
    running = select(
        func.sum(daily.c.net).over(order_by=daily.c.day).label("run")
    ).subquery("running")
    low, high, net = session.execute(
        select(
            func.min(running.c.run),
            func.max(running.c.run),
            select(func.sum(daily.c.net)).scalar_subquery(),
        )
    ).one()
    low, high, net = int(low or 0), int(high or 0), int(net or 0)
    admissions, leavers = session.execute(
        select(
            select(func.count())
            .where(_within(Child.looked_after_since, period))
            .scalar_subquery(),
            select(func.count()).where(_within(Child.ceased_on, period)).scalar_subquery(),
        )
    ).one()
    return Population(
        at_start=baseline,
        at_end=baseline + net,
        fewest=baseline + min(low, 0),
        most=baseline + max(high, 0),
        admissions=int(admissions),
        leavers=int(leavers),
    )


def reviews(session: Session, period: Period) -> Reviews:
    held = _within(Review.held_on, period)
    total, known, on_time = session.execute(
        select(
            func.count(),
            func.count(Review.in_timescale),
            _count_if(Review.in_timescale.is_(True)),
        ).where(held)
    ).one()
    year = extract("year", Review.held_on)
    month = extract("month", Review.held_on)
    rows = session.execute(
        select(Review.iro_email, year, month, func.count())
        .where(held)
        .group_by(Review.iro_email, year, month)
        .order_by(Review.iro_email, year, month)
    ).all()
    per_month = tuple(IroMonth(iro, int(y), int(m), int(n)) for iro, y, m, n in rows)
    return Reviews(int(total), int(known), int(on_time), per_month, period.months)


def write_up(session: Session, period: Period, standard_days: int = 15) -> WriteUp:
    """The record deadlines of the reviews held in the period: how many met, how fast.

    "Within the standard" is the deadline's own ``in_time``, set by workers/reviews with the
    write-up rule in force (15 working days shipped; some councils use 10 or 20).
    """
    met = Deadline.met_on.isnot(None)
    total, recorded, within, average = session.execute(
        select(
            func.count(),
            func.count(Deadline.met_on),
            _count_if(and_(met, Deadline.in_time.is_(True))),
            func.avg(case((met, Deadline.working_days_taken))),
        )
        .select_from(Deadline)
        .join(Review, Review.id == Deadline.review_id)
        .where(Deadline.kind == RECORD_KIND, _within(Review.held_on, period))
    ).one()
    return WriteUp(
        standard_days=standard_days,
        reviews=int(total),
        recorded=int(recorded),
        within_standard=int(within),
        average_working_days=None if average is None else round(float(average), 2),
    )


def participation(session: Session, period: Period) -> Participation:
    code = func.coalesce(Review.participation, NOT_RECORDED)
    rows = session.execute(
        select(code, func.count()).where(_within(Review.held_on, period)).group_by(code)
    ).all()
    return Participation({str(c): int(n) for c, n in rows})


def _london_days(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period's first and after-last instants in London (timestamps are stored in UTC)."""
    start = dt.datetime.combine(period.start, dt.time(), LONDON)
    return start, dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), LONDON)


def _sent_between(period: Period) -> ColumnElement[bool]:
    start, end = _london_days(period)
    return and_(Dispatch.sent_at >= start, Dispatch.sent_at < end)


def _meeting_between(period: Period) -> ColumnElement[bool]:
    """The review meets on a London day in the period: its scheduled time, or its due date
    while unscheduled — the same day `iro returns --summary` counts by (workers/mailout)."""
    start, end = _london_days(period)
    return or_(
        and_(Review.scheduled_at >= start, Review.scheduled_at < end),
        and_(Review.scheduled_at.is_(None), _within(Review.due_on, period)),
    )


def _return_rates(
    session: Session, which: ColumnElement[bool], *, by_review: bool = False
) -> tuple[ReturnRate, ...]:
    role = func.coalesce(Participant.role, "unknown")
    query = select(role, func.count(Dispatch.id), func.count(Return.id)).select_from(Dispatch)
    if by_review:
        query = query.join(Review, Review.id == Dispatch.review_id)
    rows = session.execute(
        query
        .outerjoin(Participant, Participant.id == Dispatch.participant_id)
        .outerjoin(Return, Return.dispatch_id == Dispatch.id)
        .where(Dispatch.state == "sent", which)
        .group_by(role)
        .order_by(role)
    ).all()
    return tuple(ReturnRate(str(r), int(s), int(n)) for r, s, n in rows)


def consultation_returns(session: Session, period: Period) -> tuple[ReturnRate, ...]:
    """Consultation forms sent for the reviews meeting in the period, by the recipient's role,
    and how many came back.

    A form carries a reference code so its return can be matched; that is what marks it.
    """
    return _return_rates(
        session,
        and_(
            Dispatch.reference_code.isnot(None),
            Dispatch.kind.notlike(f"{QUESTIONNAIRE_PREFIX}%"),
            _meeting_between(period),
        ),
        by_review=True,
    )


def questionnaire_returns(session: Session, period: Period) -> tuple[ReturnRate, ...]:
    return _return_rates(
        session, and_(Dispatch.kind.like(f"{QUESTIONNAIRE_PREFIX}%"), _sent_between(period))
    )


def escalations(session: Session, period: Period) -> EscalationYear:
    """Children escalated in the period and the stage at which each was resolved.

    Counted in children, as the annual report does: a child with two escalations resolved at
    the same stage counts once there.
    """
    raised = _within(Escalation.raised_on, period)
    children, referred, still_open = session.execute(
        select(
            func.count(distinct(Escalation.child_id)),
            func.count(distinct(case((Escalation.cafcass_referred_on.isnot(None),
                                      Escalation.child_id)))),
            func.count(distinct(case((Escalation.status != "resolved", Escalation.child_id)))),
        ).where(raised)
    ).one()
    rows = session.execute(
        select(Escalation.resolved_stage, func.count(distinct(Escalation.child_id)))
        .where(raised, Escalation.status == "resolved", Escalation.resolved_stage.isnot(None))
        .group_by(Escalation.resolved_stage)
    ).all()
    return EscalationYear(
        period=period,
        children=int(children),
        resolved_by_stage={str(s): int(n) for s, n in rows},
        cafcass_referred=int(referred),
        open=int(still_open),
    )


def has_escalations(session: Session, period: Period) -> bool:
    first = select(Escalation.id).where(_within(Escalation.raised_on, period)).limit(1)
    found = session.scalar(first)
    return found is not None



def decisions(session: Session, period: Period, as_of: dt.date) -> Decisions:
    """The decisions of the reviews held in the period: how many had a date, were due by
    ``as_of``, done, and overdue (due before ``as_of`` and not recorded as done)."""
    due = and_(ReviewDecision.due_on.isnot(None), ReviewDecision.due_on < as_of)
    recorded, dated, owing, done = session.execute(
        select(
            func.count(),
            func.count(ReviewDecision.due_on),
            _count_if(due),
            _count_if(and_(due, ReviewDecision.done.is_(True))),
        )
        .select_from(ReviewDecision)
        .join(Review, Review.id == ReviewDecision.review_id)
        .where(_within(Review.held_on, period))
    ).one()
    return Decisions(as_of, int(recorded), int(dated), int(owing), int(done),
                     int(owing) - int(done))
