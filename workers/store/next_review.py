"""Each child's next review date, stored (``children.next_review_due``) so the caseload and the
overdue lists can sort, filter, count and page in SQL at a council's scale.

The date is never worked out here: ``deadline_queries.next_review_of`` (the rules in
rules.yaml and the working calendar) gives it, and this module only keeps the stored copy true:

* every flush that changes one of its inputs (a review planned, held, cancelled, re-dated or
  re-numbered; a period of care; the day a child became looked after) clears the child's
  ``due_basis`` (the listeners below, on every session of a store ``open_store`` opened);
* ``refresh`` works the date out again for every child whose ``due_basis`` is not the
  fingerprint of the rules and calendar in force (cleared, never worked out, or worked out under
  other rules or bank holidays), before a list reads it. The caller owns the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.metadata import version
from typing import Any

from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from workers.core.planning import ReviewTimescalesLike
from workers.core.workcalendar import WorkingCalendar
from workers.store.models import CarePeriod, Child, Review

# what next_review_of reads: a change to any of these may move a child's next review
REVIEW_INPUTS = ("child_id", "status", "due_on", "sequence", "held_on")
CHILD_INPUTS = ("looked_after_since",)
PERIOD_INPUTS = ("child_id", "started_on")
BATCH = 500
HOLIDAYS_DATA = version("holidays")  # a new release may add or move a bank holiday


def fingerprint(calendar: WorkingCalendar, timescales: ReviewTimescalesLike) -> str:
    """What the stored dates were worked out under: the review timescales, the bank holiday
    calendar (country, subdivision, the holidays package's data version) and closure days."""
    basis = "|".join((
        repr(timescales.first), repr(timescales.second), repr(timescales.subsequent),
        calendar.country, calendar.subdivision, HOLIDAYS_DATA,
        ",".join(sorted(d.isoformat() for d in calendar.closures))))
    return hashlib.sha256(basis.encode()).hexdigest()[:64]


def _changed(obj: object, names: Iterable[str]) -> bool:
    state: Any = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _touched_children(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Review | CarePeriod):
            inputs = REVIEW_INPUTS if isinstance(obj, Review) else PERIOD_INPUTS
            if obj in session.new or obj in session.deleted or _changed(obj, inputs):
                ids.add(obj.child_id)
                state: Any = inspect(obj)
                ids.update(v for v in state.attrs.child_id.history.deleted or () if v)
        elif isinstance(obj, Child) and obj in session.dirty and _changed(obj, CHILD_INPUTS):
            ids.add(obj.id)
    return {i for i in ids if i is not None}


def watch(factory: sessionmaker[Session]) -> None:
    """Keep the stored dates true on every session ``factory`` makes (``open_store`` calls it:
    registered per store, not on every Session in the process at import)."""
    event.listen(factory, "after_flush", _clear_stale)
    event.listen(factory, "after_flush_postexec", _forget_basis)


def _clear_stale(session: Session, _context: object) -> None:
    """After the rows are written (a new review's child_id is known) and before the flush is
    done with (what changed is still known): clear the touched children's due_basis."""
    ids = _touched_children(session)
    if ids:
        session.connection().execute(
            update(Child).where(Child.id.in_(sorted(ids))).values(due_basis=None)
            .execution_options(synchronize_session=False))
        session.info.setdefault("next_review_stale", set()).update(ids)


def _forget_basis(session: Session, _context: object) -> None:
    ids = session.info.pop("next_review_stale", set())
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Child) and obj.id in ids:
            session.expire(obj, ["due_basis"])


def refresh(session: Session, calendar: WorkingCalendar,
            timescales: ReviewTimescalesLike) -> int:
    """Work out again the next review of every child looked after whose stored date is not
    known to be current; the number refreshed (0 when nothing changed: no write at all)."""
    from workers.store.deadline_queries import care_period_starts, next_review_of

    basis = fingerprint(calendar, timescales)
    stale = list(session.scalars(select(Child.id).where(
        Child.ceased_on.is_(None), or_(Child.due_basis.is_(None), Child.due_basis != basis))
        .order_by(Child.id)))  # one order, so two refreshes at once cannot deadlock
    for start in range(0, len(stale), BATCH):
        ids = stale[start:start + BATCH]
        # the children locked before their reviews are read: a change committed meanwhile
        # clears due_basis after this transaction, never under a date worked out from before it
        # (PostgreSQL; SQLite has one writer at a time)
        children = list(session.scalars(
            select(Child).where(Child.id.in_(ids)).order_by(Child.id)
            .with_for_update(of=Child).options(selectinload(Child.reviews))
            .execution_options(populate_existing=True)))
        starts = care_period_starts(session, ids)
        for child in children:
            due, review = next_review_of(child, calendar, timescales, starts.get(child.id))
            child.next_review_due = due
            child.next_review_id = review.id if review is not None else None
            child.due_basis = basis
        session.flush()
    return len(stale)

