"""Writing a 903 ``Extract`` into the store. The caller owns the transaction (all or nothing).

Children are matched by ref (the 903 CHILD, the same key as our CSV's ``child_ref``). A child the
store does not have yet is created without names, team or IRO: those come from our reviews CSV
(docs/csv-format.md). Past reviews are matched by child and date, so a review our service recorded
is never doubled; one only the 903 knows is stored as recorded, ref ``<CHILD>-903-<yyyymmdd>``.
Only changed values are assigned, so a second import of the same files changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workers.core.planning import PlanningCalendar, ReviewTimescalesLike, statutory_due_date
from workers.importer.upsert import Counts
from workers.reviews.timescale import timeliness
from workers.ssda903.plan import ChildPlan, Extract
from workers.store import audit
from workers.store.models import CarePeriod, Child, Review


@dataclass
class Summary903:
    rows: int
    short_breaks_only: int
    children: Counts = field(default_factory=Counts)
    periods: Counts = field(default_factory=Counts)
    reviews: Counts = field(default_factory=Counts)
    next_due: Counts = field(default_factory=Counts)  # created: a child new to the store

    def as_details(self) -> dict[str, Any]:
        return {"rows": self.rows, "short_breaks_only": self.short_breaks_only,
                **{k: asdict(getattr(self, k)) for k in ("children", "periods", "reviews",
                                                          "next_due")}}


def next_due(child: Child, timescales: ReviewTimescalesLike,
             calendar: PlanningCalendar) -> dt.date:
    """reg 33's date for the child's next review: from the last review held in the current
    period of care, or from the day it began (``planning.statutory_due_date``)."""
    held = [r for r in child.reviews
            if r.held_on is not None and r.held_on >= child.looked_after_since]
    last = max(held, key=lambda r: (r.held_on or dt.date.min, r.sequence), default=None)
    return statutory_due_date(
        timescales, calendar, looked_after_since=child.looked_after_since,
        sequence=last.sequence + 1 if last else 1,
        previous_review_on=last.held_on if last else None,
    )


def upsert_extract(session: Session, extract: Extract, timescales: ReviewTimescalesLike,
                   calendar: PlanningCalendar, actor: str = "system",
                   progress: Callable[[int], None] | None = None) -> Summary903:
    summary = Summary903(extract.rows, len(extract.short_breaks_only))
    refs = sorted(extract.children)
    existing: dict[str, Child] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        query = select(Child).where(Child.ref.in_(chunk)).options(selectinload(Child.reviews))
        existing.update((c.ref, c) for c in session.scalars(query))
    before = {ref: next_due(c, timescales, calendar) for ref, c in existing.items()}
    children = {ref: _child(session, existing.get(ref), extract.children[ref], summary)
                for ref in refs}
    session.flush()  # ids for the new children's periods, in one round trip
    stored: dict[tuple[int, dt.date], CarePeriod] = {}
    ids = [c.id for c in children.values()]
    for start in range(0, len(ids), 500):
        periods = select(CarePeriod).where(CarePeriod.child_id.in_(ids[start : start + 500]))
        stored.update(((p.child_id, p.started_on), p) for p in session.scalars(periods))
    for ref in refs:
        plan, child = extract.children[ref], children[ref]
        _periods(session, child, plan, summary, stored)
        _reviews(child, plan, summary)
        after = next_due(child, timescales, calendar)
        summary.next_due.add("created" if ref not in before else
                             "unchanged" if before[ref] == after else "updated")
        if progress is not None:
            progress(1)
    audit.record(session, "import.903", "import", None, actor=actor, **summary.as_details())
    return summary


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for key in changed:
        setattr(obj, key, values[key])
    return bool(changed)


def _child(session: Session, child: Child | None, plan: ChildPlan, summary: Summary903) -> Child:
    values = {"date_of_birth": plan.date_of_birth,
              "looked_after_since": plan.current.started_on,
              "ceased_on": plan.current.ended_on}
    if child is None:
        child = Child(ref=plan.ref, given_name="", family_name="", team="", iro_email="",
                      placement="", legal_status="", reviews=[], **values)
        session.add(child)
        summary.children.add("created")
        return child
    summary.children.add("updated" if _assign(child, values) else "unchanged")
    return child


def _periods(session: Session, child: Child, plan: ChildPlan, summary: Summary903,
             stored: dict[tuple[int, dt.date], CarePeriod]) -> None:
    for period in plan.periods:
        values = {"ended_on": period.ended_on}
        row = stored.get((child.id, period.started_on))
        if row is None:
            session.add(CarePeriod(child_id=child.id, started_on=period.started_on, **values))
            summary.periods.add("created")
        else:
            summary.periods.add("updated" if _assign(row, values) else "unchanged")


def _reviews(child: Child, plan: ChildPlan, summary: Summary903) -> None:
    by_day = {r.held_on: r for r in child.reviews if r.held_on is not None}
    for past in plan.reviews:
        late = timeliness(past.held_on, past.due_on)
        values = {"participation": past.code, "sequence": past.sequence, "due_on": past.due_on,
                  "in_timescale": late.in_timescale, "days_late": late.days_late}
        row = by_day.get(past.held_on)
        if row is None:
            # appended to the relationship, so next_due sees it without a round trip
            child.reviews.append(Review(ref=f"{child.ref}-903-{past.held_on:%Y%m%d}",
                                        held_on=past.held_on, status="recorded", venue="",
                                        iro_email=child.iro_email, **values))
            summary.reviews.add("created")
        elif row.ref.startswith(f"{child.ref}-903-"):
            summary.reviews.add("updated" if _assign(row, values) else "unchanged")
        else:
            # Our own record of the review stands; the 903 only fills a missing code.
            changed = row.participation is None and _assign(row, {"participation": past.code})
            summary.reviews.add("updated" if changed else "unchanged")
