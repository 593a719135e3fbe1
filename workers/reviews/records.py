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


def current_case(source: Review, *, besides: Review) -> list[Participant]:
    """The people of ``source`` as the case stands now: each as on their latest row over the
    child's reviews since (``besides`` left out), and nobody withdrawn on any of those rows."""
    since = sorted((r for r in source.child.reviews if r.id != besides.id
                    and r.status != "cancelled" and (r.sequence, r.id) >= (source.sequence,
                                                                             source.id)),
                   key=lambda r: (r.sequence, r.id))
    rows: dict[str, list[Participant]] = {}
    for review in since:
        for person in review.participants:
            rows.setdefault(person.ref, []).append(person)
    return [rows[p.ref][-1] for p in source.participants
            if all(row.withdrawn_on is None for row in rows.get(p.ref, [p]))]


def copy_participants(session: Session, source: Review, target: Review) -> int:
    """Invite the people of the case as it is now to the next review (refs kept, attendance
    cleared): not the held review's list, so someone whose part ended, withdrawn since, is not
    carried forward (issue 16 §5). A next review the case system sent keeps its own list."""
    if target.participants:
        return 0
    copied = 0
    for person in current_case(source, besides=target):
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
                placement_withheld=person.placement_withheld,
            )
        )
        copied += 1
    session.flush()
    return copied
