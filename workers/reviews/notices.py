"""Composers for the write-up notices: the draft record, reminders to the IRO, overdue notices.

Registered with ``workers.queue.compose.register_composer`` by ``register(load)``. Recipients are
checked
again at send time against the case record (the review's IRO) and the directory (the person
``write_up.overdue_notice_to`` names). Subjects and bodies come from the staff-editable email
templates (email_review_record, email_writeup_reminder, email_writeup_overdue; issue 3 §1) and
carry references and initials only; a rendered subject with a name in it is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.config.directory import Directory
from workers.config.rules import Rules
from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import NotFoundError, PermanentDeliveryError
from workers.mail.message import DOCX, Attachment, OutgoingMessage
from workers.queue.compose import ComposeContext, register_composer
from workers.reviews.calendar import Calendar
from workers.reviews.clock import WRITE_UP_KINDS
from workers.store.models import Deadline, Dispatch, Return, Review

if TYPE_CHECKING:
    from workers.documents import contexts
    from workers.documents.emails import EmailText

WHAT = {"decisions": "review decisions", "record": "review record"}  # deadline.what


@dataclass(frozen=True)
class NoticeConfig:
    rules: Rules
    directory: Directory
    calendar: Calendar
    templates_dir: Path
    mailbox_name: str = "Independent Reviewing Service"
    letterhead: Any = None  # contexts.Letterhead; None → the placeholder letterhead
    clock: Clock = SYSTEM_CLOCK  # a notice's date, and the days left it counts
    record_reply_days: int = 30  # settings mailbox.record_reply_days: the draft email says it


def _review(session: Session, dispatch: Dispatch) -> Review:
    review = session.get(Review, dispatch.review_id) if dispatch.review_id else None
    if review is None:
        raise NotFoundError(f"dispatch {dispatch.key} names no review")
    return review


def _check_recipient(dispatch: Dispatch, expected: str) -> str:
    if dispatch.recipient.strip().lower() != expected.strip().lower():
        raise PermanentDeliveryError(
            f"dispatch {dispatch.key}: its address is not the one the record and directory give; "
            "plan the notice again"
        )
    return expected


def compose_review_record(
    session: Session, dispatch: Dispatch, cfg: NoticeConfig, ctx: ComposeContext
) -> OutgoingMessage:
    """The draft review record, pre-filled, to the chairing IRO."""
    review = _review(session, dispatch)
    to = _check_recipient(dispatch, review.iro_email)
    document = render_draft_record(session, review, cfg)
    decisions = _deadline(session, review, "decisions")
    record = _deadline(session, review, "record")
    if record is None:
        raise NotFoundError(f"dispatch {dispatch.key}: no record deadline for {review.ref}")
    text = _email(
        cfg, "email_review_record", review,
        what="record", due_on=record.due_on,
        decisions_due_on=decisions.due_on if decisions else None,
        record_reply_days=cfg.record_reply_days,
    )  # fmt: skip
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=to,
        subject=text.subject,
        body_text=text.body,
        reply_to=ctx.reply_to,
        attachments=(Attachment(f"{review.ref}-draft-review-record.docx", document, DOCX),),
    )


def render_draft_record(session: Session, review: Review, cfg: NoticeConfig) -> bytes:
    """The pre-filled draft review record (.docx) for ``review``: the attachment of the notice
    to the IRO, and what the web page lets the IRO download again."""
    from workers.documents import contexts
    from workers.documents.engine import DocumentEngine

    returned: dict[int, dt.date] = {}
    for pid, on in session.execute(
        select(Dispatch.participant_id, Return.received_on)
        .join(Return, Return.dispatch_id == Dispatch.id)
        .where(Dispatch.review_id == review.id, Dispatch.participant_id.is_not(None))
        .order_by(Return.received_on)
    ):
        if pid is not None:
            returned.setdefault(pid, on)  # the first form back
    from workers.reviews import draft_inputs

    rules = cfg.rules
    context = contexts.review_record(
        review.child,
        review,
        review.participants,
        _common(cfg, review),
        returned_on=returned,
        previous=draft_inputs.previous_record(session, review),
        participation_codes=rules.participation_codes,
        next_review_due=draft_inputs.next_review_due(
            session, review, rules.review_timescales, rules.mailout, cfg.calendar),
        escalations=draft_inputs.open_escalations(
            session, review, {s.key: s.title for s in rules.escalation.stages},
            {c.key: c.title for c in rules.escalation.categories}),
    )
    from workers.documents.titles import document_title

    return bytes(_engine(cfg.templates_dir, DocumentEngine).render(
        "review_record", context, document_title("review_record", context)))


def compose_reminder(
    session: Session, dispatch: Dispatch, cfg: NoticeConfig, ctx: ComposeContext
) -> OutgoingMessage:
    review = _review(session, dispatch)
    to = _check_recipient(dispatch, review.iro_email)
    kind = str(dispatch.params.get("deadline", ""))
    deadline = _deadline(session, review, kind)
    if deadline is None:
        raise NotFoundError(f"dispatch {dispatch.key}: no {kind} deadline for {review.ref}")
    left = cfg.calendar.between(cfg.clock.today(), deadline.due_on, statutory=False)
    text = _email(
        cfg, "email_writeup_reminder", review, what=kind, due_on=deadline.due_on,
        days_left=max(left, 0),
    )  # fmt: skip
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=to,
        subject=text.subject,
        body_text=text.body,
        reply_to=ctx.reply_to,
    )


def compose_overdue(
    session: Session, dispatch: Dispatch, cfg: NoticeConfig, ctx: ComposeContext
) -> OutgoingMessage:
    """To the IRO manager (copy to the IRO): this deadline, and everything else overdue."""
    from workers.documents.contexts import OverdueItem

    review = _review(session, dispatch)
    who = cfg.directory.resolve(
        cfg.rules.write_up.overdue_notice_to, team_key=review.child.team, iro_email=review.iro_email
    )
    if who is None:
        raise PermanentDeliveryError(
            f"dispatch {dispatch.key}: write_up.overdue_notice_to names no one in directory.yaml"
        )
    to = _check_recipient(dispatch, who.email)
    kind = str(dispatch.params.get("deadline", ""))
    deadline = _deadline(session, review, kind)
    if deadline is None:
        raise NotFoundError(f"dispatch {dispatch.key}: no {kind} deadline for {review.ref}")
    today = cfg.clock.today()
    overdue = [
        OverdueItem(r.ref, r.child.initials, WHAT.get(d.kind, d.kind), d.due_on,
                    cfg.calendar.between(d.due_on, today, statutory=False))
        for d, r in _overdue(session, review.iro_email, today)
    ]  # fmt: skip
    text = _email(
        cfg, "email_writeup_overdue", review, what=kind, due_on=deadline.due_on,
        days_overdue=max(cfg.calendar.between(deadline.due_on, today, statutory=False), 0),
        recipient=who, overdue=overdue,
    )  # fmt: skip
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=to,
        cc=(review.iro_email,) if review.iro_email.lower() != to.lower() else (),
        subject=text.subject,
        body_text=text.body,
        reply_to=ctx.reply_to,
    )


def _email(
    cfg: NoticeConfig, kind: str, review: Review, *, what: str, due_on: dt.date, **more: Any
) -> EmailText:
    """Subject and body from the staff-editable template ``kind`` (issue 3 §1)."""
    from workers.documents import contexts
    from workers.documents.emails import refuse_names_in_subject, render_email

    common = _common(cfg, review)
    context = contexts.writeup_email(
        review.child, review, common, what=WHAT.get(what, what), due_on=due_on,
        mailbox_name=cfg.mailbox_name, **more,
    )  # fmt: skip
    text = render_email(cfg.templates_dir, kind, context)
    names = (review.child.given_name, review.child.family_name, context["recipient"]["name"])
    refuse_names_in_subject(kind, text.subject, names)
    return text


def _common(cfg: NoticeConfig, review: Review) -> contexts.Common:
    from workers.documents import contexts

    iro = cfg.directory.iro(review.iro_email)
    return contexts.Common(
        letterhead=cfg.letterhead or contexts.Letterhead(),
        iro=iro if iro is not None else _Contact(review.iro_email, review.iro_email),
        letter_date=cfg.clock.today(),
    )


def _deadline(session: Session, review: Review, kind: str) -> Deadline | None:
    from workers.reviews.held import deadline_key

    if kind not in WRITE_UP_KINDS:
        return None
    return session.scalars(
        select(Deadline).where(Deadline.key == deadline_key(review.ref, kind))
    ).one_or_none()


def _overdue(session: Session, iro_email: str, today: dt.date) -> list[tuple[Deadline, Review]]:
    rows = session.execute(
        select(Deadline, Review)
        .join(Review, Deadline.review_id == Review.id)
        .where(
            Review.iro_email == iro_email,
            Deadline.kind.in_(WRITE_UP_KINDS),
            Deadline.met_on.is_(None),
            Deadline.due_on < today,
        )
        .order_by(Deadline.due_on, Review.ref)
    )
    return [(d, r) for d, r in rows]


@dataclass(frozen=True)
class _Contact:
    name: str
    email: str
    phone: str = ""


@cache
def _engine(templates_dir: Path, factory: Any) -> Any:
    return factory(templates_dir)  # one per process: it caches the compiled templates


def register(load: Callable[[], NoticeConfig]) -> None:
    """Register the three composers; ``load`` gives the rules in force (called per message)."""

    def bind(
        fn: Callable[[Session, Dispatch, NoticeConfig, ComposeContext], OutgoingMessage],
    ) -> Callable[[Session, Dispatch, ComposeContext], OutgoingMessage]:
        return lambda session, dispatch, ctx: fn(session, dispatch,
                                                 replace(load(), clock=ctx.clock), ctx)

    register_composer("review_record", bind(compose_review_record))
    register_composer("writeup_reminder", bind(compose_reminder))
    register_composer("writeup_overdue", bind(compose_overdue))


@cache
def load_from_config_dir() -> NoticeConfig:
    """Rules, directory and templates from IRO_CONFIG_DIR (default ./config), read once."""
    from workers.cli.context import AppContext
    from workers.documents import contexts

    app = AppContext()
    return NoticeConfig(
        app.rules,
        app.directory,
        app.calendar,
        Path(app.settings.templates_dir),
        app.settings.mailbox.display_name,
        letterhead=contexts.Letterhead.from_settings(app.settings.letterhead),
        record_reply_days=app.settings.mailbox.record_reply_days,
    )
