"""Composers for escalation dispatches: the stage notice (its Word template attached) and the
overdue / ceiling alerts to the IRO.

The address on each dispatch is checked against the addressees worked out again from
directory.yaml, so a row edited by hand cannot send a child's concern elsewhere (DESIGN.md §6).
Subjects carry the escalation reference and the child's initials, never a name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from workers.compose import ComposeContext, register_composer
from workers.directory import Directory, Person
from workers.documents.contexts import Common, HistoryItem, Letterhead, escalation_notice
from workers.documents.engine import DocumentEngine
from workers.errors import NotFoundError, PermanentDeliveryError
from workers.escalation.machine import Notice, NoticeKind
from workers.escalation.policy import Policy
from workers.escalation.recipients import addressees
from workers.escalation.service import NOTICE_KIND, OVERDUE_KIND, escalation_ref
from workers.mail.message import Attachment, OutgoingMessage
from workers.store.models import Child, Dispatch, Escalation

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _long(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "not set"


@dataclass
class EscalationComposers:
    policy: Policy
    directory: Directory
    engine: DocumentEngine
    letterhead: Letterhead = field(default_factory=Letterhead)
    today: Callable[[], dt.date] = dt.date.today
    category_titles: dict[str, str] = field(default_factory=dict)

    def _load(self, session: Session, d: Dispatch) -> tuple[Escalation, Child, Notice]:
        esc = session.get(Escalation, d.escalation_id) if d.escalation_id else None
        if esc is None:
            raise NotFoundError(f"dispatch {d.key} names no escalation")
        child = session.get(Child, esc.child_id)
        assert child is not None  # a foreign key
        kind: NoticeKind = d.params.get("reason", "stage")
        notice = Notice(kind, str(d.params.get("stage", esc.stage)))
        wanted = {
            a.email.lower()
            for a in addressees(
                self.policy,
                self.directory,
                notice,
                team=child.team,
                iro_email=esc.iro_email,
                ladder_stage=esc.stage,
            )
        }
        if d.recipient.strip().lower() not in wanted:
            raise PermanentDeliveryError(
                f"dispatch {d.key}: the address is not one directory.yaml gives for this "
                "escalation notice; correct the directory and plan it again"
            )
        return esc, child, notice

    def _iro(self, email: str) -> Person:
        return self.directory.iro(email) or Person(
            name="Independent Reviewing Officer", email=email
        )

    def notice(self, session: Session, d: Dispatch, context: ComposeContext) -> OutgoingMessage:
        esc, child, notice = self._load(session, d)
        stage = self.policy.stage(notice.stage)
        as_ = str(d.params.get("as", ""))
        person = self.directory.resolve(as_, team_key=child.team, iro_email=esc.iro_email)
        recipient = person or Person(
            name=as_.replace("_", " ").title() or "Colleague", email=d.recipient
        )
        titles = {s.key: s.title for s in self.policy.stages}
        history = [HistoryItem(s.on, titles.get(s.stage, s.stage), s.action) for s in esc.steps]
        ctx = escalation_notice(
            child,
            esc,
            Common(self.letterhead, self._iro(esc.iro_email), self.today()),
            recipient=recipient,
            recipient_title=stage.title if d.params.get("role") == "to" else "copy",
            stage_title=stage.title,
            category_title=self.category_titles.get(esc.category, esc.category),
            ceiling_on=self.policy.ceiling_date(esc.raised_on),
            history=history,
        )
        document = self.engine.render(stage.template, ctx)
        ref = escalation_ref(esc.id)
        copy = "" if d.params.get("role") == "to" else " (copy for information)"
        due = (
            f"A response is due by {_long(esc.response_due_on)}.\n"
            if esc.response_due_on and d.params.get("role") == "to"
            else ""
        )
        body = (
            f"Dear {recipient.name},\n\n"
            f"Please find attached escalation notice {ref}{copy}: {stage.title}, concerning "
            f"child {child.ref} ({child.initials}).\n{due}\n"
            f"{self.letterhead.service}\n"
        )
        return OutgoingMessage(
            dispatch_key=d.key,
            to=d.recipient,
            subject=f"Escalation {ref} ({child.initials}): {stage.title}{copy}",
            body_text=body,
            reply_to=context.reply_to,
            attachments=(Attachment(f"{ref}-{stage.key}.docx", document, DOCX),),
        )

    def alert(self, session: Session, d: Dispatch, context: ComposeContext) -> OutgoingMessage:
        esc, child, notice = self._load(session, d)
        ref = escalation_ref(esc.id)
        title = self.policy.stage(notice.stage).title
        if notice.kind == "ceiling":
            what = "has passed the total time allowed"
            detail = (
                f"It was raised on {_long(esc.raised_on)} and should have been resolved by "
                f"{_long(self.policy.ceiling_date(esc.raised_on))}; it is at: {title}."
            )
        else:
            what = "response overdue"
            due = d.params.get("due_on") or esc.response_due_on
            detail = f"No response is recorded at: {title}. It was due by {due}."
        body = (
            f"Escalation {ref} for child {child.ref} ({child.initials}) {what}.\n{detail}\n\n"
            "Record a response with `iro escalate respond`, move it on with "
            "`iro escalate advance`, or close it with `iro escalate resolve`.\n"
        )
        return OutgoingMessage(
            dispatch_key=d.key,
            to=d.recipient,
            subject=f"Escalation {ref} ({child.initials}): {what}",
            body_text=body,
            reply_to=context.reply_to,
        )

    def register(self) -> None:
        """Make these the composers for escalation dispatches (call at worker start-up)."""
        register_composer(NOTICE_KIND, self.notice)
        register_composer(OVERDUE_KIND, self.alert)
