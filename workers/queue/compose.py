"""Dispatch → OutgoingMessage: one composer per dispatch kind.

A composer reads the case record (the only source of recipients, DESIGN.md §6) and builds the
email; the document engine renders any attachment. Other issues add kinds with
``register_composer``. Subjects carry the meeting date, the review reference and the child's
initials, never a full name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from workers.core.clock import LONDON, SYSTEM_CLOCK, Clock
from workers.documents import contexts
from workers.documents.filters import uk_date
from workers.errors import BadInputError, NotFoundError, PermanentDeliveryError
from workers.mail.allowlist import may_email
from workers.mail.message import DOCX, PDF, Attachment, OutgoingMessage
from workers.store.models import Dispatch, Participant, Review

if TYPE_CHECKING:
    from workers.mailout.documents import MailoutConfig


ComposeFn = Callable[[Session, Dispatch, "ComposeContext"], OutgoingMessage]


@dataclass(frozen=True)
class ComposeContext:
    """What composers may need beyond the row: the allow-list, the reply-to address, and the
    worker's clock (a letter is dated the day it is made)."""

    allowed_domains: Sequence[str] = ()
    reply_to: str | None = None
    templates_dir: Path = Path("templates_docx")  # settings.templates_dir
    letterhead: contexts.Letterhead = field(default_factory=contexts.Letterhead)
    clock: Clock = SYSTEM_CLOCK


_COMPOSERS: dict[str, ComposeFn] = {}


def register_composer(kind: str, fn: ComposeFn) -> None:
    """Make ``fn`` the composer for dispatches of ``kind`` (the last registration wins)."""
    _COMPOSERS[kind] = fn


def composer_for(kind: str) -> ComposeFn:
    try:
        return _COMPOSERS[kind]
    except KeyError:
        known = ", ".join(sorted(_COMPOSERS)) or "none"
        raise BadInputError(
            f"no composer for dispatch kind {kind!r} (known: {known}); "
            "register one in workers.queue.compose or correct the dispatch"
        ) from None


@dataclass
class Composers:
    """The callable the dispatcher uses: picks the composer by the row's kind."""

    context: ComposeContext = field(default_factory=ComposeContext)

    def __call__(self, session: Session, dispatch: Dispatch) -> OutgoingMessage:
        return composer_for(dispatch.kind)(session, dispatch, self.context)


# -- helpers composers share ------------------------------------------------------------------


def recipient_of(session: Session, dispatch: Dispatch, context: ComposeContext) -> Participant:
    """The participant this dispatch goes to, with its address checked against the record.

    The address on the dispatch must be the participant's recorded one, and its domain on the
    allow-list unless the participant's personal address is recorded as confirmed.
    """
    if dispatch.participant_id is None:
        raise NotFoundError(f"dispatch {dispatch.key} names no participant")
    person = session.get(Participant, dispatch.participant_id)
    elsewhere = dispatch.review_id is not None and person is not None and (
        person.review_id != dispatch.review_id
    )
    if person is None or elsewhere:
        raise PermanentDeliveryError(
            f"dispatch {dispatch.key}: participant {dispatch.participant_id} is not on this review"
        )
    address = (person.email or "").strip()
    if not address or address.lower() != dispatch.recipient.strip().lower():
        raise PermanentDeliveryError(
            f"dispatch {dispatch.key}: the address differs from participant {person.ref}'s "
            "record; correct the case record and plan the mail-out again"
        )
    if not may_email(address, confirmed=person.email_confirmed, allowed=context.allowed_domains):
        raise PermanentDeliveryError(
            f"dispatch {dispatch.key}: participant {person.ref}'s address is outside the allowed "
            "domains and not confirmed; confirm it on the case record or send by post"
        )
    return person


def subject_line(review: Review, what: str) -> str:
    """``Review R-1042 (A.B.) 14 March 2027: invitation`` — reference and initials only."""
    from workers.mailout.documents import review_on

    return f"Review {review.ref} ({review.child.initials}) {uk_date(review_on(review))}: {what}"


def invitation_context(review: Review, person: Participant, context: ComposeContext,
                       today: dt.date) -> contexts.Context:
    """What the invitation template is filled with (benchmarks/pipeline.py renders the same)."""
    from workers.mailout.documents import IroFallback

    common = contexts.Common(context.letterhead, IroFallback(review.iro_email), today)
    return contexts.letter(review.child, review, person, common)


def compose_letter(
    session: Session, dispatch: Dispatch, context: ComposeContext
) -> OutgoingMessage:
    """The invitation to a review, rendered from its Word template and attached."""
    from workers.documents.engine import shared_engine

    person = recipient_of(session, dispatch, context)
    review = session.get(Review, dispatch.review_id) if dispatch.review_id else None
    if review is None:
        raise NotFoundError(f"dispatch {dispatch.key} names no review")
    # stored in UTC; the letter says the meeting's London date and time
    when = (review.scheduled_at or dt.datetime.combine(review.due_on, dt.time(10), LONDON))
    when = when.astimezone(LONDON)
    document = shared_engine(context.templates_dir).render(
        "invitation", invitation_context(review, person, context, context.clock.today())
    )
    body = (
        f"Dear {person.name},\n\n"
        f"You are invited to the review {review.ref} on {uk_date(when.date())} "
        f"at {when:%H:%M}. The invitation is attached.\n"
        f"Venue: {review.venue or 'to be confirmed'}\n\n"
        f"Please quote {dispatch.reference_code or review.ref} in any reply.\n\n"
        "Independent Reviewing Service\n"
    )
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=person.email or "",
        subject=subject_line(review, "invitation"),
        body_text=body,
        reply_to=context.reply_to,
        attachments=(invitation_attachment(dispatch, f"{review.ref}-{person.ref}-invitation",
                                           document),),
    )


def invitation_attachment(dispatch: Dispatch, stem: str, document: bytes) -> Attachment:
    """The .docx, or with ``params: {pdf: true}`` a PDF made by this process's warm LibreOffice
    (the converter the mail-out packs use); .docx where LibreOffice is not installed."""
    if dispatch.params and dispatch.params.get("pdf"):
        from workers.mailout.documents import pdf_enabled, to_pdf

        cfg = _mailout_config()
        if pdf_enabled(cfg):
            return Attachment(f"{stem}.pdf", to_pdf(cfg, document, f"{stem}/invitation"), PDF)
    return Attachment(f"{stem}.docx", document, DOCX)


@cache
def _mailout_config() -> MailoutConfig:
    from workers.mailout.documents import load_config

    return load_config()  # IRO_CONFIG_DIR, as the mail-out composers read it


register_composer("letter", compose_letter)
