"""Writing an ``ImportPlan`` into the store: children by ref, reviews by ref, participants by
review + ref. Only changed values are assigned, so importing the same file twice changes nothing
(no ``updated_at`` churn). The caller owns the transaction: on any error it rolls back, so an
import is all-or-nothing.

A participant whose contact (email, address, channel) changed, and one missing from the file for a
planned review the file lists, are noted in the summary: workers.casework.imports re-plans or
withdraws them (their rows stay: dispatches may already point at them). A review already held,
recorded or cancelled is history: a row that would change it is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.importer.records import ImportPlan, RowError, raise_errors
from workers.reviews.matching import adopt_reference, planned_twin
from workers.store import audit
from workers.store.models import Child, Participant, Review

CONTACT_FIELDS = ("email", "email_confirmed", "address", "postcode", "channel")
CHUNK = 500  # refs per IN (...) query: well under SQLite's and PostgreSQL's parameter limits
M = TypeVar("M", Child, Review, Participant)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class ImportSummary:
    rows: int
    children: Counts = field(default_factory=Counts)
    reviews: Counts = field(default_factory=Counts)
    participants: Counts = field(default_factory=Counts)
    # for workers.casework.imports (not audited here): (participant, contact values before)
    contact_changes: list[tuple[Participant, dict[str, Any]]] = field(default_factory=list)
    missing: list[Participant] = field(default_factory=list)  # left out of a listed review
    # a review `iro review held` planned, now under the case system's ref: (review, old ref)
    adopted: list[tuple[Review, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.adopted) or any(
            c.created or c.updated for c in (self.children, self.reviews, self.participants))

    def as_details(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "children": asdict(self.children),
            "reviews": asdict(self.reviews),
            "participants": asdict(self.participants),
            "adopted": {review.ref: old for review, old in self.adopted},
        }


def _assign(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set only what differs; return the names changed."""
    changed = [k for k, value in values.items() if getattr(obj, k) != value]
    for key in changed:
        setattr(obj, key, values[key])
    return changed


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _existing_by_ref(session: Session, model: type[M], refs: Sequence[str]) -> dict[str, M]:
    found: dict[str, M] = {}
    for chunk in _chunks(refs):
        for obj in session.scalars(select(model).where(model.ref.in_(chunk))):
            found[obj.ref] = obj
    return found


def upsert_plan(session: Session, plan: ImportPlan, actor: str = "system") -> ImportSummary:
    """Create or update everything in ``plan`` and audit it; does not commit."""
    summary = ImportSummary(rows=plan.rows)
    errors: list[RowError] = []

    children = _existing_by_ref(session, Child, list(plan.children))
    for ref, child_rec in plan.children.items():
        values = {k: v for k, v in asdict(child_rec).items() if k != "ref"}
        summary.children.add(_upsert(session, Child, children, ref, values))
    session.flush()  # ids for the reviews

    reviews = _existing_by_ref(session, Review, list(plan.reviews))
    numbers: dict[str, set[int]] = {}
    for rec in plan.reviews.values():
        numbers.setdefault(rec.child_ref, set()).add(rec.sequence)
    planned = _planned_of(session, [children[r.child_ref].id for ref, r in plan.reviews.items()
                                    if ref not in reviews])
    for ref, rec in plan.reviews.items():
        child = children[rec.child_ref]
        if ref not in reviews:  # issue 16 §4: the review `iro review held` planned is this one
            twin = planned_twin(planned.get(child.id, ()), rec.sequence, rec.due_on,
                                other_than=ref,
                                numbers_taken=numbers[rec.child_ref] - {rec.sequence})
            if twin is not None and twin.ref not in plan.reviews:
                summary.adopted.append((twin, adopt_reference(session, twin, ref, actor=actor)))
                reviews[ref] = twin
        values = {
            "child_id": child.id,
            "sequence": rec.sequence,
            "due_on": rec.due_on,
            "scheduled_at": rec.scheduled_at,
            "venue": rec.venue,
            "iro_email": rec.iro_email,
            "placement_confidential": rec.placement_confidential,
        }
        existing = reviews.get(ref)
        line = plan.lines[f"review:{ref}"]
        if existing is not None and existing.child_id != child.id:
            errors.append(
                RowError(line, "review_ref", f"{ref} belongs to another child in the store")
            )
            continue
        if existing is not None and existing.status != "planned":
            differs = [k for k, v in values.items() if getattr(existing, k) != v]
            if differs:
                errors.append(
                    RowError(
                        line,
                        "review_ref",
                        f"{ref} is already {existing.status}; "
                        f"the import would change {', '.join(differs)}",
                    )
                )
                continue
        summary.reviews.add(_upsert(session, Review, reviews, ref, values))
    raise_errors(plan.source, errors)
    session.flush()

    review_ids = [r.id for r in reviews.values()]
    participants: dict[tuple[int, str], Participant] = {}
    for chunk in _chunks(review_ids):
        for p in session.scalars(select(Participant).where(Participant.review_id.in_(chunk))):
            participants[(p.review_id, p.ref)] = p
    for p_rec in plan.participants:
        review = reviews[p_rec.review_ref]
        values = {k: v for k, v in asdict(p_rec).items() if k not in ("review_ref", "ref")}
        existing_p = participants.get((review.id, p_rec.ref))
        if existing_p is None:
            session.add(Participant(review_id=review.id, ref=p_rec.ref, **values))
            summary.participants.add("created")
        else:
            before = {k: getattr(existing_p, k) for k in CONTACT_FIELDS}
            changed = _assign(existing_p, values)
            summary.participants.add("updated" if changed else "unchanged")
            if any(k in CONTACT_FIELDS for k in changed):
                summary.contact_changes.append(
                    (existing_p, {k: before[k] for k in changed if k in CONTACT_FIELDS}))
    listed = {(reviews[p.review_ref].id, p.ref) for p in plan.participants}
    summary.missing = [p for key, p in participants.items() if key not in listed
                       and p.withdrawn_on is None and p.review.status == "planned"]
    session.flush()

    if summary.changed:  # a re-import that changes nothing leaves the store exactly as it was
        audit.record(session, "import.reviews", "import", None, actor=actor, **summary.as_details())
    return summary


def _planned_of(session: Session, child_ids: Sequence[int]) -> dict[int, list[Review]]:
    """The planned reviews of these children, by child id, in a query per chunk."""
    found: dict[int, list[Review]] = {}
    for chunk in _chunks(sorted(set(child_ids))):
        for review in session.scalars(select(Review).where(
                Review.child_id.in_(chunk), Review.status == "planned").order_by(Review.id)):
            found.setdefault(review.child_id, []).append(review)
    return found


def _upsert(
    session: Session, model: type[M], existing: dict[str, M], ref: str, values: dict[str, Any]
) -> str:
    obj = existing.get(ref)
    if obj is None:
        obj = model(ref=ref, **values)
        session.add(obj)
        existing[ref] = obj
        return "created"
    return "updated" if _assign(obj, values) else "unchanged"
