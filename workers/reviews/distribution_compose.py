"""Composing a copy of the review record for its recipient: an email with the copy attached, or
the PDF for the print batch (issue 15 §2).

The address is checked against the case record and the allow-list again at send time
(``recipient_of``); the document is made at that moment from the kept record, with the sections
withheld from this recipient taken out, or, for the child, their own letter. A copy of the
decisions only (``DECISIONS_COPY_KIND``) carries the decisions letter, made from the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache

from sqlalchemy.orm import Session

from workers.documents import contexts
from workers.mail.message import DOCX, PDF, Attachment, OutgoingMessage
from workers.mailout.compose import letter_email, letter_parts
from workers.mailout.documents import IroFallback, MailoutConfig, load_config, to_pdf
from workers.queue.compose import ComposeContext, recipient_of, register_composer
from workers.reviews.distribution import (
    DECISIONS_COPY_KIND,
    RECORD_COPY_KIND,
    copy_document,
)
from workers.store.models import Dispatch


def _withheld(dispatch: Dispatch) -> list[str]:
    return [str(t) for t in dispatch.params.get("withheld", [])]


def _document(cfg: MailoutConfig, session: Session, dispatch: Dispatch) -> tuple[str, bytes]:
    review, _, person = letter_parts(session, dispatch)
    return copy_document(cfg, session, review, person, _withheld(dispatch),
                         decisions=dispatch.kind == DECISIONS_COPY_KIND)


def compose_copy(session: Session, dispatch: Dispatch, cfg: MailoutConfig,
                 ctx: ComposeContext) -> OutgoingMessage:
    person = recipient_of(session, dispatch, ctx)  # the record's address, allow-listed
    review, child, _ = letter_parts(session, dispatch)
    name, document = _document(cfg, session, dispatch)
    iro = cfg.directory.iro(review.iro_email)
    contact: contexts.Contact = iro if iro is not None else IroFallback(review.iro_email)
    letter = contexts.letter(child, review, person,
                             contexts.Common(cfg.letterhead, contact, cfg.clock.today()))
    # the copy's body is not searched for a withheld placement address: what a reader may not
    # see is withheld section by section by the IRO (workers.reviews.distribution)
    return letter_email(cfg, dispatch, "email_record_copy", letter, child, person,
                        (Attachment(name, document, DOCX),), reply_to=ctx.reply_to,
                        check_confidential=False, withheld=_withheld(dispatch),
                        decisions_only=dispatch.kind == DECISIONS_COPY_KIND)


def printed_copy(cfg: MailoutConfig, session: Session, dispatch: Dispatch) -> list[Attachment]:
    """The postal copy as PDF, for the print batch."""
    name, document = _document(cfg, session, dispatch)
    return [Attachment(name.removesuffix(".docx") + ".pdf",
                       to_pdf(cfg, document, dispatch.key), PDF)]


def register(load: Callable[[], MailoutConfig] | None = None) -> None:
    """Make this the composer of record and decisions copies (once per worker process)."""
    loader = load or cache(load_config)

    def bound(session: Session, dispatch: Dispatch, ctx: ComposeContext) -> OutgoingMessage:
        return compose_copy(session, dispatch, replace(loader(), clock=ctx.clock), ctx)

    register_composer(RECORD_COPY_KIND, bound)
    register_composer(DECISIONS_COPY_KIND, bound)
