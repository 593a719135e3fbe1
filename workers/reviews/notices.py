"""Composers for the write-up notices: the draft record, reminders to the IRO, overdue notices.

Registered with ``workers.compose.register_composer`` by ``register(load)``. Recipients are checked
again at send time against the case record (the review's IRO) and the directory (the person
``write_up.overdue_notice_to`` names). Subjects and bodies carry references and initials only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.compose import ComposeContext, register_composer, subject_line
from workers.directory import Directory
from workers.errors import NotFoundError, PermanentDeliveryError
from workers.mail.message import Attachment, OutgoingMessage
from workers.reviews.calendar import Calendar
from workers.reviews.clock import WRITE_UP_KINDS
from workers.reviews.held import LONDON
from workers.rules import Rules
from workers.store.models import Deadline, Dispatch, Return, Review

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
WHAT = {"decisions": "the review decisions", "record": "the review record"}


@dataclass(frozen=True)
class NoticeConfig:
    rules: Rules
    directory: Directory
    calendar: Calendar
    templates_dir: Path
    mailbox_name: str = "Independent Reviewing Service"
    letterhead: Any = None  # contexts.Letterhead; None → the placeholder letterhead
    today: Callable[[], dt.date] = field(default=lambda: dt.datetime.now(LONDON).date())


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


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def compose_review_record(
    session: Session, dispatch: Dispatch, cfg: NoticeConfig, ctx: ComposeContext
) -> OutgoingMessage:
    """The draft review record, pre-filled, to the chairing IRO."""
    review = _review(session, dispatch)
    to = _check_recipient(dispatch, review.iro_email)
    document = render_draft_record(session, review, cfg)
    decisions = _deadline(session, review, "decisions")
    record = _deadline(session, review, "record")
    body = (
        f"The review {review.ref} ({review.child.initials}) was held on "
        f"{_long(review.held_on or cfg.today())}. The draft review record is attached, filled "
        "in with who was invited, who attended, whose views came back and the participation "
        "code.\n\n"
        f"Decisions due: {_long(decisions.due_on) if decisions else 'see iro caseload'}\n"
        f"Review record due: {_long(record.due_on) if record else 'see iro caseload'}\n\n"
        f"{cfg.mailbox_name}\n"
    )
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=to,
        subject=subject_line(review, "draft review record"),
        body_text=body,
        reply_to=ctx.reply_to,
        attachments=(Attachment(f"{review.ref}-draft-review-record.docx", document, DOCX),),
    )


def render_draft_record(session: Session, review: Review, cfg: NoticeConfig) -> bytes:
    """The pre-filled draft review record (.docx) for ``review``: the attachment of the notice
    to the IRO, and what the web page lets the IRO download again."""
    from workers.documents import contexts
    from workers.documents.engine import DocumentEngine

    iro = cfg.directory.iro(review.iro_email)
    returned = session.scalars(
        select(Dispatch.participant_id)
        .join(Return, Return.dispatch_id == Dispatch.id)
        .where(Dispatch.review_id == review.id, Dispatch.participant_id.is_not(None))
    ).all()
    common = contexts.Common(
        letterhead=cfg.letterhead or contexts.Letterhead(),
        iro=iro if iro is not None else _Contact(review.iro_email, review.iro_email),
        letter_date=cfg.today(),
    )
    context = contexts.review_record(
        review.child,
        review,
        review.participants,
        common,
        returned_ids=[i for i in returned if i is not None],
        participation_codes=cfg.rules.participation_codes,
    )
    return bytes(_engine(cfg.templates_dir, DocumentEngine).render("review_record", context))


def compose_reminder(
    session: Session, dispatch: Dispatch, cfg: NoticeConfig, ctx: ComposeContext
) -> OutgoingMessage:
    review = _review(session, dispatch)
    to = _check_recipient(dispatch, review.iro_email)
    kind = str(dispatch.params.get("deadline", ""))
    deadline = _deadline(session, review, kind)
    if deadline is None:
        raise NotFoundError(f"dispatch {dispatch.key}: no {kind} deadline for {review.ref}")
    left = cfg.calendar.between(cfg.today(), deadline.due_on, statutory=False)
    body = (
        f"A reminder: {WHAT.get(kind, kind)} for review {review.ref} "
        f"({review.child.initials}), held on {_long(deadline.started_on)}, "
        f"{'is' if kind == 'record' else 'are'} due by {_long(deadline.due_on)} "
        f"({left} working day{'s' if left != 1 else ''} from today).\n\n"
        "When done, record it with `iro review "
        f"{'recorded' if kind == 'record' else 'decisions-sent'} {review.ref} --date ...`.\n\n"
        f"{cfg.mailbox_name}\n"
    )
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=to,
        subject=subject_line(review, f"reminder, {kind} due {deadline.due_on:%d/%m/%Y}"),
        body_text=body,
        reply_to=ctx.reply_to,
    )


def compose_overdue(
    session: Session, dispatch: Dispatch, cfg: NoticeConfig, ctx: ComposeContext
) -> OutgoingMessage:
    """To the IRO manager (copy to the IRO): this deadline, and everything else overdue."""
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
    today = cfg.today()
    lines = [
        f"- {r.ref} ({r.child.initials}): {WHAT.get(d.kind, d.kind)} due {_long(d.due_on)}, "
        f"{cfg.calendar.between(d.due_on, today, statutory=False)} working days overdue"
        for d, r in _overdue(session, review.iro_email, today)
    ]
    body = (
        f"{WHAT.get(kind, kind).capitalize()} for review {review.ref} ({review.child.initials}) "
        f"passed its date unmet. Overdue write-ups of {review.iro_email} today:\n\n"
        + ("\n".join(lines) or "- (none: met since this notice was planned)")
        + f"\n\n{cfg.mailbox_name}\n"
    )
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=to,
        cc=(review.iro_email,) if review.iro_email.lower() != to.lower() else (),
        subject=subject_line(review, f"{kind} overdue"),
        body_text=body,
        reply_to=ctx.reply_to,
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
        return lambda session, dispatch, ctx: fn(session, dispatch, load(), ctx)

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
    )
