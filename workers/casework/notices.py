"""The letters a casework change sends to people already invited: a change of arrangements when
the meeting moves, a cancellation when the review is cancelled (templates
``change_of_arrangements`` and ``review_cancelled``, email body ``email_casework``).

Composed like the invitation (workers.mailout.compose): the address is checked against the case
record at send time, the meeting is read from the review as it is now; by post they go in the
day's print batch (workers.mailout.printing). Params carry the previous meeting time and whether
the venue changed, never the venue itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from workers.casework.confidential import check_rendered
from workers.documents.titles import document_title
from workers.errors import RefusedError
from workers.mail.message import DOCX, PDF, Attachment, OutgoingMessage
from workers.mailout.documents import MailoutConfig, letter_context, pdf_enabled, to_pdf
from workers.queue.compose import ComposeContext, recipient_of, register_composer
from workers.store.models import Child, Dispatch, Participant, Review

CHANGE_KIND = "mailout_change"  # dispatch kinds
CANCEL_KIND = "mailout_cancelled"
KINDS = (CHANGE_KIND, CANCEL_KIND)
TEMPLATES = {CHANGE_KIND: "change_of_arrangements", CANCEL_KIND: "review_cancelled"}


def notice_context(cfg: MailoutConfig, dispatch: Dispatch, review: Review, child: Child,
                   person: Participant) -> dict[str, Any]:
    ctx = letter_context(cfg, child, review, person, form=None, code=None,
                         return_by=review.due_on)
    previous = dispatch.params.get("previous_at")
    ctx["previous"] = {
        "scheduled_at": dt.datetime.fromisoformat(str(previous)) if previous else None,
        "venue_changed": bool(dispatch.params.get("venue_changed")),
    }
    return ctx


def notice_documents(cfg: MailoutConfig, dispatch: Dispatch, review: Review, child: Child,
                     person: Participant) -> list[Attachment]:
    """The one letter, as PDF where LibreOffice is installed, else the Word file."""
    template = TEMPLATES[dispatch.kind]
    ctx = notice_context(cfg, dispatch, review, child, person)
    data = cfg.engine.render(template, ctx, document_title(template, ctx))
    check_rendered(ctx, template, data)
    stem = f"{review.ref}-{person.ref}-{template.replace('_', '-')}"
    if pdf_enabled(cfg):
        return [Attachment(f"{stem}.pdf", to_pdf(cfg, data, f"{stem}/{template}"), PDF)]
    return [Attachment(f"{stem}.docx", data, DOCX)]


def pack(cfg: MailoutConfig, session: Session, dispatch: Dispatch) -> tuple[
        Review, Child, Participant, list[Attachment]]:
    """As workers.mailout.compose.pack, for these kinds (the print batch calls it)."""
    from workers.mailout.compose import letter_parts

    review, child, person = letter_parts(session, dispatch)
    return review, child, person, notice_documents(cfg, dispatch, review, child, person)


def compose_notice(session: Session, dispatch: Dispatch, cfg: MailoutConfig,
                   ctx: ComposeContext) -> OutgoingMessage:
    from workers.mailout.compose import letter_email, letter_parts

    person = recipient_of(session, dispatch, ctx)
    review, child, _ = letter_parts(session, dispatch)
    cancelled = dispatch.kind == CANCEL_KIND
    if not cancelled and review.status != "planned":
        raise RefusedError(f"dispatch {dispatch.key}: review {review.ref} is {review.status}; "
                           "the change of arrangements no longer applies")
    letter = notice_context(cfg, dispatch, review, child, person)
    return letter_email(cfg, dispatch, "email_casework", letter, child, person,
                        notice_documents(cfg, dispatch, review, child, person),
                        reply_to=ctx.reply_to, is_cancellation=cancelled)


def register(loader: Callable[[], MailoutConfig]) -> None:
    """Make these the composers of the casework letters (workers.mailout.wiring.register)."""

    def bound(session: Session, dispatch: Dispatch, ctx: ComposeContext) -> OutgoingMessage:
        return compose_notice(session, dispatch, replace(loader(), clock=ctx.clock), ctx)

    for kind in KINDS:
        register_composer(kind, bound)
