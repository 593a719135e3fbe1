"""Composers for escalation dispatches: the stage notice (its Word template attached) and the
overdue / ceiling alerts to the IRO.

The address on each dispatch is checked against the addressees worked out again from
directory.yaml, so a row edited by hand cannot send a child's concern elsewhere (DESIGN.md §6).
Subject and body come from the staff-editable email templates (``email_escalation`` for a stage
notice, ``email_escalation_alert`` for the overdue and ceiling alerts; issue 3 §1). Subjects
carry the escalation reference and the child's initials, never a name: checked again here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from workers.config.directory import Directory, Person
from workers.documents.contexts import (
    Common,
    HistoryItem,
    Letterhead,
    escalation_notice,
    with_mailbox,
)
from workers.documents.emails import refuse_names_in_subject, render_email
from workers.documents.engine import DocumentEngine
from workers.documents.titles import document_title, with_title
from workers.errors import NotFoundError, PermanentDeliveryError
from workers.escalation.machine import Notice, NoticeKind
from workers.escalation.planned import NOTICE_KIND, OVERDUE_KIND
from workers.escalation.policy import Policy
from workers.escalation.recipients import addressees
from workers.escalation.refs import escalation_ref, response_key
from workers.mail.message import DOCX, Attachment, OutgoingMessage
from workers.queue.compose import ComposeContext, register_composer
from workers.store.keyed import deadline_by_key
from workers.store.models import Child, Dispatch, Escalation


@dataclass
class EscalationComposers:
    policy: Policy
    directory: Directory
    engine: DocumentEngine
    letterhead: Letterhead = field(default_factory=Letterhead)
    category_titles: dict[str, str] = field(default_factory=dict)
    mailbox_name: str = ""  # how emails are signed; the letterhead's service name when empty

    def _load(self, session: Session, d: Dispatch) -> tuple[Escalation, Child, Notice]:
        esc = session.get(Escalation, d.escalation_id) if d.escalation_id else None
        if esc is None:
            raise NotFoundError(f"dispatch {d.id} names no escalation")
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
                f"dispatch {d.id}: the address is not one directory.yaml gives for this "
                "escalation notice; correct the directory and plan it again"
            )
        return esc, child, notice

    def _iro(self, email: str) -> Person:
        return self.directory.iro(email) or Person(
            name="Independent Reviewing Officer", email=email
        )

    def _context(
        self, session: Session, d: Dispatch, esc: Escalation, child: Child, notice: Notice,
        today: dt.date,
    ) -> dict[str, Any]:
        """The notice's context (the Word document's and the email's): the stage the notice is
        about, its response date from the deadline row, the person it goes to."""
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
            Common(self.letterhead, self._iro(esc.iro_email), today),
            recipient=recipient,
            recipient_title=stage.title if d.params.get("role") == "to" else "copy",
            stage_title=stage.title,
            category_title=self.category_titles.get(esc.category, esc.category.replace("_", " ")),
            ceiling_on=self.policy.ceiling_date(esc.raised_on),
            history=history,
        )
        due = deadline_by_key(session, response_key(esc.id, notice.stage))
        ctx["escalation"]["response_due_on"] = due.due_on if due is not None else None
        return with_mailbox(
            ctx, self.mailbox_name or self.letterhead.service,
            is_copy=d.params.get("role") != "to",
        )  # fmt: skip

    def _email(self, kind: str, ctx: dict[str, Any], child: Child) -> tuple[str, str]:
        text = render_email(self.engine.templates_dir, kind, ctx)
        refuse_names_in_subject(
            kind, text.subject, (child.given_name, child.family_name, ctx["recipient"]["name"])
        )
        return text.subject, text.body

    def notice(self, session: Session, d: Dispatch, context: ComposeContext) -> OutgoingMessage:
        esc, child, notice = self._load(session, d)
        stage = self.policy.stage(notice.stage)
        ctx = self._context(session, d, esc, child, notice, context.clock.today())
        document = with_title(self.engine.render(stage.template, ctx),
                              document_title(stage.template, ctx))
        subject, body = self._email("email_escalation", ctx, child)
        return OutgoingMessage(
            dispatch_key=d.key,
            to=d.recipient,
            subject=subject,
            body_text=body,
            reply_to=context.reply_to,
            attachments=(
                Attachment(f"{escalation_ref(esc.id)}-{stage.key}.docx", document, DOCX),
            ),
        )

    def alert(self, session: Session, d: Dispatch, context: ComposeContext) -> OutgoingMessage:
        esc, child, notice = self._load(session, d)
        ctx = self._context(session, d, esc, child, notice, context.clock.today())
        ctx["alert"] = {"kind": notice.kind}
        subject, body = self._email("email_escalation_alert", ctx, child)
        return OutgoingMessage(
            dispatch_key=d.key,
            to=d.recipient,
            subject=subject,
            body_text=body,
            reply_to=context.reply_to,
        )

    def register(self) -> None:
        """Make these the composers for escalation dispatches (call at worker start-up)."""
        register_composer(NOTICE_KIND, self.notice)
        register_composer(OVERDUE_KIND, self.alert)
