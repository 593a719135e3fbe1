"""Read-only page data: reviews with their mail-out state, letter progress, failed letters.

Children are named by reference and initials; participants by reference and role (the review page
adds the name, for the officer who sends the letters). Sessions are passed in.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import Session

from workers.mailout.plan import INVITATION_KIND
from workers.store.models import Dispatch, Participant, PrintBatch, Return, Review
from workers.web.listing import Listing, Page, contains

TO_PRINT = "to print"  # a postal letter waiting for the print batch: the worker will not send it
FINAL = frozenset({"sent", "failed", "bounced", "cancelled", TO_PRINT})


def shown_state(channel: str, state: str) -> str:
    return TO_PRINT if channel == "post" and state in ("pending", "queued") else state


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int] = field(default_factory=dict)
    forms_sent: int = 0  # consultation forms gone out (emailed, or printed for post)
    forms_back: int = 0  # of them, returned

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0)

    @property
    def problems(self) -> int:
        return self.counts.get("failed", 0) + self.counts.get("bounced", 0)

    @property
    def done(self) -> bool:
        return self.total > 0 and all(state in FINAL for state in self.counts)

    @property
    def label(self) -> str:
        if not self.total:
            return "not started"
        text = f"{self.sent} of {self.total} sent"
        if self.counts.get(TO_PRINT):
            text += f", {self.counts[TO_PRINT]} to print"
        if self.problems:
            text += f", {self.problems} failed"
        return text if not self.done or self.problems or self.counts.get(TO_PRINT) \
            else "all sent"


@dataclass(frozen=True)
class ReviewLine:
    ref: str
    child_ref: str
    initials: str
    iro_email: str
    meets_on: dt.date
    due_on: dt.date
    status: str
    progress: Progress
    waiting: bool = False  # no meeting date, time or venue yet: the mail-out waits (issue 16)


def form_sent() -> ColumnElement[bool]:
    """A dispatch that is a consultation form gone out: an invitation with a form code, sent
    (a posted one once its batch was marked posted), as the return rates count it."""
    return and_(Dispatch.kind == INVITATION_KIND, Dispatch.reference_code.is_not(None),
                Dispatch.state == "sent")


def form_back() -> ColumnElement[bool]:
    return exists().where(Return.dispatch_id == Dispatch.id)


def progress_by_review(session: Session, review_ids: list[int]) -> dict[int, Progress]:
    if not review_ids:
        return {}
    counts: dict[int, Counter[str]] = {}
    for review_id, channel, state, n in session.execute(
        select(Dispatch.review_id, Dispatch.channel, Dispatch.state, func.count())
        .where(Dispatch.review_id.in_(review_ids), Dispatch.kind == INVITATION_KIND)
        .group_by(Dispatch.review_id, Dispatch.channel, Dispatch.state)
    ):
        if review_id is not None:
            counts.setdefault(review_id, Counter())[shown_state(channel, state)] += n
    forms = {review_id: (int(sent), int(back or 0)) for review_id, sent, back in session.execute(
        select(Dispatch.review_id, func.count(), func.sum(case((form_back(), 1), else_=0)))
        .where(Dispatch.review_id.in_(review_ids), form_sent())
        .group_by(Dispatch.review_id))}
    return {rid: Progress(dict(c), *forms.get(rid, (0, 0))) for rid, c in counts.items()}


@dataclass(frozen=True)
class LetterLine:
    dispatch_id: int
    participant_ref: str
    role: str
    channel: str
    state: str
    attempts: int
    sent_at: dt.datetime | None
    last_error: str | None


def letters(session: Session, review_id: int) -> list[LetterLine]:
    """The review's invitation letters and their states (what the progress panel polls)."""
    return [LetterLine(d.id, p.ref, p.role, d.channel, shown_state(d.channel, d.state),
                       d.attempts, d.sent_at,
                       d.last_error)
            for d, p in session.execute(
                select(Dispatch, Participant)
                .join(Participant, Participant.id == Dispatch.participant_id)
                .where(Dispatch.review_id == review_id, Dispatch.kind == INVITATION_KIND)
                .order_by(Participant.id, Dispatch.id))]


@dataclass(frozen=True)
class FailedLine:
    dispatch_id: int
    kind: str
    channel: str
    state: str
    attempts: int
    review_ref: str | None
    participant_ref: str | None
    updated_at: dt.datetime
    last_error: str | None


FAILED_SORTS = ("updated", "review", "letter")


def failed_page(session: Session, listing: Listing) -> Page[FailedLine]:
    """Failed and bounced letters a page at a time with the total (newest first by default),
    filtered by state, channel and review reference in SQL."""
    where: list[Any] = [Dispatch.state.in_((listing.get("state"),) if listing.get("state")
                                else ("failed", "bounced"))]
    if listing.get("channel"):
        where.append(Dispatch.channel == listing.get("channel"))
    if listing.get("q"):
        where.append(contains(listing.get("q"), Review.ref))
    base = (select(Dispatch, Review.ref, Participant.ref)
            .outerjoin(Review, Review.id == Dispatch.review_id)
            .outerjoin(Participant, Participant.id == Dispatch.participant_id).where(*where))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    key: Any = {"updated": Dispatch.updated_at, "review": Review.ref,
                "letter": Dispatch.id}[listing.sort]
    order = ([key.desc(), Dispatch.id.desc()] if listing.descending
             else [key.asc(), Dispatch.id.asc()])
    rows = session.execute(base.order_by(*order).offset(listing.offset).limit(listing.size))
    return Page([FailedLine(d.id, d.kind, d.channel, d.state, d.attempts, rref, pref,
                            d.updated_at, d.last_error) for d, rref, pref in rows],
                total, listing)


def print_batches(session: Session, limit: int = 30) -> list[PrintBatch]:
    return list(session.scalars(select(PrintBatch).where(PrintBatch.pdf_path != "")  # finished
                                .order_by(PrintBatch.id.desc()).limit(limit)))


def postal_letters_waiting(session: Session, before: dt.datetime) -> int:
    """Postal letters due but not yet in a batch (what "build the batch" would print)."""
    return session.scalar(select(func.count()).select_from(Dispatch).where(
        Dispatch.channel == "post", Dispatch.state == "pending",
        Dispatch.print_batch_id.is_(None), Dispatch.due_at < before)) or 0
