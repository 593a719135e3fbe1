"""One review, whoever planned it first (issue 16 §4).

`iro review held` plans the child's next review (``C-1006-R3``); the case system then exports
the same meeting as ``R-1006-3``. Without a match the family gets two packs. A planned review of
the same child with the same number is the same review; so is one whose statutory date lies
within ``DUE_WINDOW_DAYS`` of it when the two systems number reviews differently (a 903 history,
an extra review). The case system's reference is kept: it is the one people read in both
systems. Adopting it renames the keys of the review's deadlines and letters, so nothing is
planned twice under the other name; form codes are not keyed by review and stay as sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.store import audit
from workers.store.models import Deadline, Dispatch, Review

DUE_WINDOW_DAYS = 28  # reg 33 dates of one review, counted by the two systems, are days apart


def planned_twin(reviews: Iterable[Review], sequence: int, due_on: dt.date, *, other_than: str,
                 numbers_taken: Collection[int] = ()) -> Review | None:
    """Of one child's ``reviews``, the planned one that is this one: by number, else by
    statutory date (only a review whose number nobody else claims: ``numbers_taken``)."""
    planned = [r for r in reviews if r.status == "planned" and r.ref != other_than]
    by_number = [r for r in planned if r.sequence == sequence]
    if by_number:
        return by_number[0]
    near = sorted((r for r in planned if r.sequence not in numbers_taken
                   and abs((r.due_on - due_on).days) <= DUE_WINDOW_DAYS),
                  key=lambda r: abs((r.due_on - due_on).days))
    return near[0] if near else None


def _renamed(key: str, old: str, new: str) -> str:
    return new + key[len(old):]


def adopt_reference(session: Session, review: Review, new_ref: str, *, actor: str) -> str:
    """Give ``review`` the case system's reference; returns the old one (caller commits)."""
    old = review.ref
    prefix = old + "/"
    for row in session.scalars(select(Dispatch).where(
            Dispatch.key.startswith(prefix, autoescape=True))):
        row.key = _renamed(row.key, old, new_ref)
    for row in session.scalars(select(Dispatch).where(Dispatch.review_id == review.id)):
        if row.params.get("review_ref") == old:
            row.params = {**row.params, "review_ref": new_ref}
    for deadline in session.scalars(select(Deadline).where(
            Deadline.key.startswith(prefix, autoescape=True))):
        deadline.key = _renamed(deadline.key, old, new_ref)
    review.ref = new_ref
    session.flush()
    audit.record(session, "review.adopted", "review", review.id, actor=actor, previous_ref=old,
                 review_ref=new_ref, sequence=review.sequence)
    return old
