"""The rows ``deadline_queries.due_items`` gives (each child's next review and every open
deadline), as one SQL query, so the caseload and the overdue lists filter, sort, count and page
in the database at a council's scale.

The dates are the rules': a child's next review is the stored ``children.next_review_due``
(``workers.store.next_review`` keeps it equal to ``next_review_of``; call ``refresh`` first) and
a deadline's its ``due_on``; which rows count is ``due_items``'s choice, written here as SQL
(tests/test_due_sql.py checks the two agree on both stores). A page's rows become ``DueItem``s,
their working days counted by the calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from workers.core.workcalendar import WorkingCalendar
from workers.store.deadline_queries import REVIEW_DUE, DueItem
from workers.store.models import Child, Deadline, Escalation, Review
from workers.store.search import contains

WRITE_UPS = ("decisions", "record")


def items_query(*, today: dt.date | None = None, overdue_only: bool = False,
                kinds: Sequence[str] = (), iro_email: str | None = None,
                team: str | None = None, child_ids: Sequence[int] | None = None,
                child_search: str | None = None, search: str | None = None,
                due_from: dt.date | None = None, due_to: dt.date | None = None) -> Any:
    """The items ``due_items`` lists, as a subquery: kind, due_on, statutory, child_id,
    child_ref, given_name, family_name, review_ref, escalation_id, owner, planned, team.

    Filtered as ``due_items`` filters (``overdue_only``: due before ``today``), and by
    ``kinds``, the child's ``team``, ``child_ids``, a ``search`` box (the child's or the
    item's review's reference holds it), a ``child_search`` (the child's reference or any of
    its reviews', past ones too, holds it; with ``iro_email``, only that IRO's reviews) or the
    due date (``due_from``/``due_to``, inclusive);
    each filter is put inside both halves of the union, so the database reads only what it
    needs (SQLite does not carry a condition into a union by itself)."""
    def conditions(due_on: Any, owner: Any, review_ref: Any) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if overdue_only:
            assert today is not None, "overdue_only needs today"
            found.append(due_on < today)
        if due_from is not None:
            found.append(due_on >= due_from)
        if due_to is not None:
            found.append(due_on <= due_to)
        if search:
            found.append(contains(search, Child.ref, review_ref))
        if child_search:
            any_review = aliased(Review)
            # only a review the reader may open: another IRO's would tell its reference's child
            theirs = ([] if iro_email is None else [func.lower(func.trim(func.coalesce(
                any_review.iro_email, Child.iro_email))) == iro_email.strip().lower()])
            found.append(or_(contains(child_search, Child.ref), exists().where(
                any_review.child_id == Child.id, contains(child_search, any_review.ref),
                *theirs)))
        if iro_email is not None:
            found.append(func.lower(owner) == iro_email.strip().lower())
        if team is not None:
            found.append(Child.team == team)
        if child_ids is not None:
            found.append(Child.id.in_(list(child_ids)) if child_ids else false())
        return found

    halves: list[Any] = []
    next_review = aliased(Review)
    if not kinds or REVIEW_DUE in kinds:
        owner = func.coalesce(next_review.iro_email, Child.iro_email)
        halves.append(select(
            literal(REVIEW_DUE).label("kind"), Child.next_review_due.label("due_on"),
            true().label("statutory"), Child.id.label("child_id"), Child.ref.label("child_ref"),
            Child.given_name, Child.family_name, next_review.ref.label("review_ref"),
            null().label("escalation_id"), owner.label("owner"),
            (Child.next_review_id.is_not(None)).label("planned"), Child.team,
        ).select_from(Child).outerjoin(next_review, next_review.id == Child.next_review_id)
            .where(Child.ceased_on.is_(None), Child.next_review_due.is_not(None),
                   *conditions(Child.next_review_due, owner, next_review.ref)))
    has_meeting = and_(Review.scheduled_at.is_not(None), func.trim(Review.venue) != "")
    owner = func.coalesce(Review.iro_email, Escalation.iro_email)
    halves.append(select(
        Deadline.kind, Deadline.due_on, Deadline.statutory, Child.id.label("child_id"),
        Child.ref.label("child_ref"), Child.given_name, Child.family_name,
        Review.ref.label("review_ref"), Deadline.escalation_id, owner.label("owner"),
        # a mail-out waits while its review has no meeting date, time or venue
        or_(Deadline.kind != "mailout", Review.id.is_(None), has_meeting).label("planned"),
        Child.team,
    ).select_from(Deadline).outerjoin(Review, Deadline.review_id == Review.id).outerjoin(
        Escalation, Deadline.escalation_id == Escalation.id,
    ).join(Child, Child.id == func.coalesce(Review.child_id, Escalation.child_id)).where(
        Deadline.met_on.is_(None), Child.ceased_on.is_(None),
        or_(Review.id.is_(None), Review.status != "cancelled"),
        or_(Escalation.id.is_(None), Escalation.status != "resolved"),
        # the child's next review is listed once, from the child
        or_(Deadline.kind != REVIEW_DUE, Deadline.review_id.is_(None),
            Child.next_review_id.is_(None), Deadline.review_id != Child.next_review_id),
        *([Deadline.kind.in_(list(kinds))] if kinds else []),
        *conditions(Deadline.due_on, owner, Review.ref)))
    return union_all(*halves).subquery("due")


SORTS = ("due", "child", "iro")


def ordered(due: Any, sort: str = "due", descending: bool = False) -> Select[Any]:
    """The rows in ``due_items``'s order (date, child, kind; then review and escalation, so
    that a page boundary never moves between two loads), or first by ``sort`` (one of SORTS:
    the date, the child's reference, the IRO), either way."""
    first = {"due": due.c.due_on, "child": due.c.child_ref,
             "iro": func.lower(due.c.owner)}[sort]
    return select(due).order_by(
        first.desc() if descending else first.asc(), due.c.due_on, due.c.child_ref,
        due.c.kind, due.c.review_ref, due.c.escalation_id)


def count(session: Session, due: Any) -> int:
    return session.scalar(select(func.count()).select_from(due)) or 0


def as_items(rows: Sequence[Any], calendar: WorkingCalendar, today: dt.date) -> list[DueItem]:
    return [DueItem(
        due_on=r.due_on, working_days_left=calendar.between(today, r.due_on, bool(r.statutory)),
        kind=r.kind, statutory=bool(r.statutory), child_ref=r.child_ref,
        initials=f"{r.given_name[:1]}.{r.family_name[:1]}.".upper(), review_ref=r.review_ref,
        escalation_id=r.escalation_id, iro_email=r.owner, planned=bool(r.planned),
        overdue=r.due_on < today) for r in rows]


def overdue_by_iro(session: Session, today: dt.date) -> dict[tuple[str, bool], int]:
    """How many items are overdue per (IRO, is it a review), for the managers' caseload table."""
    due = items_query(today=today, overdue_only=True)
    is_review = due.c.kind == REVIEW_DUE
    return {(owner, bool(review)): int(n) for owner, review, n in session.execute(
        select(due.c.owner, is_review, func.count()).group_by(due.c.owner, is_review))}


def caseload_lines(iro_email: str, *, overdue_on: dt.date | None = None,
                   search: str | None = None, due_from: dt.date | None = None,
                   due_to: dt.date | None = None) -> Any:
    """An IRO's caseload lines (children with an item of theirs) as a subquery: child_id,
    child_ref and next_due (their next review's date, if one of theirs); with ``overdue_on``
    (today), only children with something of theirs past its date; with ``search``, only
    children whose reference, or any of whose reviews of theirs (past ones too), holds it; with
    ``due_from``/``due_to``, only those whose next review falls within (inclusive)."""
    due = items_query(iro_email=iro_email, child_search=search)
    next_due = func.max(case((due.c.kind == REVIEW_DUE, due.c.due_on)))
    query = select(due.c.child_id, due.c.child_ref, next_due.label("next_due")).group_by(
        due.c.child_id, due.c.child_ref)
    if overdue_on is not None:
        query = query.having(func.min(due.c.due_on) < overdue_on)
    if due_from is not None:
        query = query.having(next_due >= due_from)
    if due_to is not None:
        query = query.having(next_due <= due_to)
    return query.subquery()


def count_lines(session: Session, lines: Any) -> int:
    return session.scalar(select(func.count()).select_from(lines)) or 0


def page_of_lines(session: Session, lines: Any, start: int, limit: int, *,
                  by_child: bool = False, descending: bool = False) -> list[int]:
    """A page of the lines' children's ids in ``caseloads``'s order (next review, then
    reference; none last), or by reference (``by_child``), either way."""
    if by_child:
        order = [lines.c.child_ref.desc() if descending else lines.c.child_ref]
    else:
        due = lines.c.next_due.desc() if descending else lines.c.next_due.asc()
        order = [lines.c.next_due.is_(None), due, lines.c.child_ref]
    return list(session.scalars(select(lines.c.child_id).order_by(*order)
                                .offset(start).limit(limit)))


def caseload_children(session: Session, iro_email: str, start: int,
                      limit: int) -> tuple[int, list[int]]:
    """How many lines an IRO's caseload has, and a page of their children's ids."""
    lines = caseload_lines(iro_email)
    return count_lines(session, lines), page_of_lines(session, lines, start, limit)
