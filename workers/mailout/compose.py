"""Composers for mail-out dispatches: one email per recipient, the letter pack attached.

The pack (invitation or reminder, the consultation form, how to return it) is one PDF where
LibreOffice is installed, else the Word documents. The subject is the template's ``Subject:`` line
(templates_docx/email_invitation.txt): the meeting date, the review reference, the child's
initials and the form code, nothing else (``Review on 15 March 2026 - ref R-1042 (J.S.) - form
C-XXXXXXXX``; "review", never "LAC review"), refused at send time if it came out carrying a
name; replies go to the team mailbox.
The address is checked against the case record again at send time (``recipient_of``).

A reminder whose form has come back is called off here, at the last moment: its row becomes
``cancelled`` (audited) and the dispatcher, finding it no longer ``sending``, leaves it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workers.casework.confidential import check_text
from workers.documents.contexts import with_mailbox
from workers.errors import NotFoundError, RefusedError
from workers.mail.message import DOCX, PDF, Attachment, OutgoingMessage
from workers.mailout.documents import (
    MailoutConfig,
    letter_context,
    load_config,
    pdf_enabled,
    render_documents,
    review_on,
    to_pdf,
)
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.queue.compose import ComposeContext, recipient_of, register_composer
from workers.store import audit
from workers.store.models import Child, Dispatch, Participant, Return, Review

log = logging.getLogger(__name__)


def form_returned(session: Session, dispatch: Dispatch) -> bool:
    """True when the form this reminder chases has been recorded as returned."""
    letter_key = dispatch.params.get("letter_key")
    if not letter_key:
        return False
    return session.scalar(
        select(Return.id).join(Dispatch, Return.dispatch_id == Dispatch.id)
        .where(Dispatch.key == letter_key)
    ) is not None


def reminder_expired(dispatch: Dispatch, review: Review, today: dt.date) -> bool:
    """A reminder is never sent once its return-by date or the meeting has passed (issue 16:
    after an outage, December's reminders must not go out in May)."""
    return_by = dispatch.params.get("return_by")
    past_return = return_by is not None and today > dt.date.fromisoformat(str(return_by))
    return past_return or today >= review_on(review) or review.status != "planned"


def call_off(session: Session, dispatch: Dispatch, reason: str) -> None:
    session.execute(
        update(Dispatch).where(Dispatch.id == dispatch.id, Dispatch.state == "sending")
        .values(state="cancelled", claimed_at=None)  # updated_at: the column stamps it
        .execution_options(synchronize_session=False)
    )
    audit.record(session, "dispatch.cancelled", "dispatch", dispatch.id, reason=reason)
    session.commit()
    log.info("dispatch %s called off: %s", dispatch.id, reason)


def letter_parts(session: Session, dispatch: Dispatch) -> tuple[Review, Child, Participant]:
    review = session.get(Review, dispatch.review_id) if dispatch.review_id else None
    person = session.get(Participant, dispatch.participant_id) if dispatch.participant_id else None
    if review is None or person is None:
        raise NotFoundError(f"dispatch {dispatch.key} names no review or participant")
    if person.review_id != review.id:
        raise RefusedError(f"dispatch {dispatch.key}: participant {person.ref} is not on review "
                           f"{review.ref}; refusing to address it")
    return review, review.child, person


def dispatch_context(cfg: MailoutConfig, dispatch: Dispatch, review: Review, child: Child,
                     person: Participant) -> dict[str, Any]:
    """The letter context of this dispatch: its form, code and return date from its params."""
    code = dispatch.reference_code or dispatch.params.get("form_code")
    return letter_context(cfg, child, review, person, form=dispatch.params.get("form"),
                          code=code, return_by=dt.date.fromisoformat(
                              str(dispatch.params["return_by"])),
                          bring_to_meeting=bool(dispatch.params.get("bring_to_meeting")))


def letter_documents(cfg: MailoutConfig, dispatch: Dispatch, review: Review, person: Participant,
                     ctx: dict[str, Any], *, duplex: bool = False) -> list[Attachment]:
    """The letter's documents: one PDF pack where LibreOffice is installed, else the Word files;
    ``duplex``: for printing on both sides, each document on a fresh sheet."""
    reminder = dispatch.kind == REMINDER_KIND
    docs = render_documents(cfg, ctx, form=dispatch.params.get("form"), reminder=reminder)
    stem = f"{review.ref}-{person.ref}-{'reminder' if reminder else 'invitation'}"
    if pdf_enabled(cfg):
        from workers.documents.packs import build_pack
        from workers.documents.titles import document_title

        pdfs = [to_pdf(cfg, data, f"{stem}/{kind}") for kind, data in docs]
        title = document_title(docs[0][0], ctx)  # the pack is its letter's
        return [Attachment(f"{stem}.pdf", build_pack(pdfs, duplex=duplex, title=title), PDF)]
    return [Attachment(f"{stem}-{n}-{kind}.docx", data, DOCX)
            for n, (kind, data) in enumerate(docs, start=1)]


def pack(cfg: MailoutConfig, session: Session, dispatch: Dispatch, *, duplex: bool = False
         ) -> tuple[Review, Child, Participant, list[Attachment]]:
    """The review, child, participant and the documents of this dispatch's letter."""
    review, child, person = letter_parts(session, dispatch)
    ctx = dispatch_context(cfg, dispatch, review, child, person)
    return review, child, person, letter_documents(cfg, dispatch, review, person, ctx,
                                                   duplex=duplex)


def letter_message(cfg: MailoutConfig, dispatch: Dispatch, review: Review, child: Child,
                   person: Participant, *, reply_to: str | None) -> OutgoingMessage:
    """One letter's email from rows already loaded and checked: documents, body and subject.

    No store and no transport: this is all of a mail-out letter's document work, and the
    render-only side of ``benchmarks/pipeline.py`` runs exactly this.
    """
    letter = dispatch_context(cfg, dispatch, review, child, person)
    attachments = letter_documents(cfg, dispatch, review, person, letter)
    return letter_email(cfg, dispatch, "email_invitation", letter, child, person, attachments,
                        reply_to=reply_to, is_reminder=dispatch.kind == REMINDER_KIND)


def letter_email(cfg: MailoutConfig, dispatch: Dispatch, template: str, letter: dict[str, Any],
                 child: Child, person: Participant, attachments: Iterable[Attachment], *,
                 reply_to: str | None, check_confidential: bool = True,
                 **extra: Any) -> OutgoingMessage:
    """The email carrying a letter to ``person``: body and subject from the staff-editable
    ``template`` (issue 14), the body searched for a withheld placement address (issue 16) and the
    subject for names; the mail-out, the casework notices and the record copies all send this."""
    from workers.documents.emails import refuse_names_in_subject, render_email

    mail = render_email(cfg.settings.templates_dir, template,
                        with_mailbox(letter, cfg.settings.mailbox.display_name, **extra))
    if check_confidential:
        check_text(letter, template, mail.body)
    refuse_names_in_subject(template, mail.subject,
                            (child.given_name, child.family_name, person.name))
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=person.email or "",
        subject=mail.subject,
        body_text=mail.body,
        reply_to=reply_to or cfg.settings.mailbox.reply_to_address,
        attachments=tuple(attachments),
    )


def compose_letter(session: Session, dispatch: Dispatch, cfg: MailoutConfig,
                   ctx: ComposeContext) -> OutgoingMessage:
    reminder = dispatch.kind == REMINDER_KIND
    if reminder and form_returned(session, dispatch):
        call_off(session, dispatch, "form_returned")
        raise RefusedError(f"dispatch {dispatch.key}: the form is back; reminder called off")
    review, child, _ = letter_parts(session, dispatch)
    if reminder and reminder_expired(dispatch, review, cfg.clock.today()):
        call_off(session, dispatch, "expired")
        raise RefusedError(f"dispatch {dispatch.key}: its date has passed; reminder called off")
    person = recipient_of(session, dispatch, ctx)  # the record's address, allow-listed
    return letter_message(cfg, dispatch, review, child, person, reply_to=ctx.reply_to)


def register(load: Callable[[], MailoutConfig] | None = None) -> None:
    """Make these the composers of mail-out dispatches (once per worker process)."""
    loader = load or cache(load_config)

    def bound(session: Session, dispatch: Dispatch, ctx: ComposeContext) -> OutgoingMessage:
        return compose_letter(session, dispatch, replace(loader(), clock=ctx.clock), ctx)

    register_composer(INVITATION_KIND, bound)
    register_composer(REMINDER_KIND, bound)
