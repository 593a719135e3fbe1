"""Store look-ups and idempotent inserts for the review service (callers own the transaction)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workers.errors import NotFoundError
from workers.store.models import Child, Dispatch, Participant, Review

# Notices not yet claimed by a worker can still be called off; a claimed one is already going.
CANCELLABLE = ("pending", "queued")


def review_by_ref(session: Session, ref: str) -> Review:
    review = session.scalars(select(Review).where(Review.ref == ref)).one_or_none()
    if review is None:
        raise NotFoundError(f"no review {ref!r} in the store; check the reference (iro caseload)")
    return review


def child_by_ref(session: Session, ref: str) -> Child:
    child = session.scalars(select(Child).where(Child.ref == ref)).one_or_none()
    if child is None:
        raise NotFoundError(f"no child {ref!r} in the store; check the reference (iro caseload)")
    return child


def planned_review(session: Session, child: Child) -> Review | None:
    """The child's next review still to be held (the latest planned one)."""
    return session.scalars(
        select(Review)
        .where(Review.child_id == child.id, Review.status == "planned")
        .order_by(Review.sequence.desc(), Review.id.desc())
        .limit(1)
    ).one_or_none()


def cancel_pending(session: Session, key_prefix: str) -> int:
    """Call off the notices under ``key_prefix`` that no worker has claimed; returns how many."""
    result = session.execute(
        update(Dispatch)
        .where(Dispatch.key.startswith(key_prefix, autoescape=True))
        .where(Dispatch.state.in_(CANCELLABLE))
        .values(state="cancelled")  # updated_at: the column stamps it
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def copy_participants(session: Session, source: Review, target: Review) -> int:
    """Invite the same people to the next review (refs kept, attendance cleared)."""
    present = {p.ref for p in target.participants}
    copied = 0
    for person in source.participants:
        if person.ref in present or person.withdrawn_on is not None:
            continue  # someone withdrawn from the case is not invited again (issue 16)
        session.add(
            Participant(
                review=target,
                ref=person.ref,
                role=person.role,
                name=person.name,
                organisation=person.organisation,
                relationship_to_child=person.relationship_to_child,
                email=person.email,
                email_confirmed=person.email_confirmed,
                address=person.address,
                postcode=person.postcode,
                channel=person.channel,
            )
        )
        copied += 1
    session.flush()
    return copied
