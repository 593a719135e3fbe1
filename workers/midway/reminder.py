"""The reminder to the IRO that a midway check is due, from the staff-editable template
``email_midway_reminder``, with the open decisions of the review it follows (issue 20 §2: what the
IRO checks). References and initials in the subject; checked at send time against the case record
(the review's IRO), as the write-up reminders are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import NotFoundError
from workers.mail.message import OutgoingMessage
from workers.queue.compose import ComposeContext, register_composer
from workers.reviews.notices import NoticeConfig, _check_recipient, _common, _review
from workers.store.models import Deadline, Dispatch, Review, ReviewDecision

TEMPLATE = "email_midway_reminder"


def compose(session: Session, dispatch: Dispatch, cfg: NoticeConfig,
            ctx: ComposeContext) -> OutgoingMessage:
    from workers.documents import contexts
    from workers.documents.emails import refuse_names_in_subject, render_email

    review = _review(session, dispatch)
    to = _check_recipient(dispatch, review.iro_email)
    key = str(dispatch.params.get("deadline_key", ""))
    check = session.scalars(select(Deadline).where(Deadline.key == key)).one_or_none()
    if check is None:
        raise NotFoundError(f"dispatch {dispatch.key}: no midway check {key!r}")
    left = cfg.calendar.between(cfg.clock.today(), check.due_on, statutory=False)
    context = contexts.writeup_email(
        review.child, review, _common(cfg, review), what="midway check", due_on=check.due_on,
        mailbox_name=cfg.mailbox_name, days_left=max(left, 0),
    )
    context["open_decisions"] = open_decisions(session, review)
    context["record_file"] = record_place(review)
    text = render_email(cfg.templates_dir, TEMPLATE, context)
    refuse_names_in_subject(TEMPLATE, text.subject,
                            (review.child.given_name, review.child.family_name))
    return OutgoingMessage(dispatch_key=dispatch.key, to=to, subject=text.subject,
                           body_text=text.body, reply_to=ctx.reply_to)


def open_decisions(session: Session, review: Review) -> list[dict[str, Any]]:
    """The review's decisions not yet marked done, in their order on the record."""
    rows = session.scalars(select(ReviewDecision).where(
        ReviewDecision.review_id == review.id, ReviewDecision.done.is_(False))
        .order_by(ReviewDecision.number))
    return [{"number": d.number, "action": d.action, "responsible": d.responsible,
             "timescale": d.timescale} for d in rows]


def record_place(review: Review) -> str:
    """Where the completed record is kept, from the documents folder down
    (``<child>/<review>/record/record.docx``: references only); empty when not uploaded."""
    if not review.record_file:
        return ""
    return "/".join(Path(review.record_file).parts[-4:])


def register(load: Callable[[], NoticeConfig]) -> None:
    register_composer("midway_reminder", lambda session, dispatch, ctx: compose(
        session, dispatch, replace(load(), clock=ctx.clock), ctx))
