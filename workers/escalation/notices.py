"""Composers for escalation dispatches: the stage notice (its Word template attached) and the
overdue / ceiling alerts to the IRO.

The address on each dispatch is checked against the addressees worked out again from
directory.yaml, so a row edited by hand cannot send a child's concern elsewhere (DESIGN.md §6).
Subject and body come from the staff-editable email templates (``email_escalation`` for a stage
notice, ``email_escalation_alert`` for the overdue and ceiling alerts, ``email_escalation_outcome``
for the closing notice; issue 3 §1). Every reader of a stage notice gets the same document,
addressed to the stage's manager with a "Copy to:" list; a copy's covering email says why its
reader has it and asks nothing of them (issue 15 §3). Subjects
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
    Letterhead,
    contact_recipient,
    escalation_notice,
    with_mailbox,
)
from workers.documents.emails import refuse_names_in_subject, render_email
from workers.documents.engine import DocumentEngine
from workers.documents.titles import document_title
from workers.errors import NotFoundError, PermanentDeliveryError
from workers.escalation import wording
from workers.escalation.machine import Notice, NoticeKind
from workers.escalation.planned import (
    NOTICE_KIND,
    OUTCOME_KIND,
    OVERDUE_KIND,
    outcome_recipients,
)
from workers.escalation.policy import CAFCASS, Policy
from workers.escalation.recipients import Addressee, addressees
from workers.escalation.refs import escalation_ref, response_key
from workers.escalation.service import state_of
from workers.escalation.wording import role_words
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

    def _load(
        self, session: Session, d: Dispatch
    ) -> tuple[Escalation, Child, Notice, tuple[Addressee, ...]]:
        esc = session.get(Escalation, d.escalation_id) if d.escalation_id else None
        if esc is None:
            raise NotFoundError(f"dispatch {d.id} names no escalation")
        child = session.get(Child, esc.child_id)
        assert child is not None  # a foreign key
        kind: NoticeKind = d.params.get("reason", "stage")
        notice = Notice(kind, str(d.params.get("stage", esc.stage)))
        people = addressees(
            self.policy,
            self.directory,
            notice,
            team=child.team,
            iro_email=esc.iro_email,
            ladder_stage=esc.stage,
        )
        if d.recipient.strip().lower() not in {a.email.lower() for a in people}:
            raise PermanentDeliveryError(
                f"dispatch {d.id}: the address is not one directory.yaml gives for this "
                "escalation notice; correct the directory and plan it again"
            )
        return esc, child, notice, people

    def _iro(self, email: str) -> Person:
        return self.directory.iro(email) or Person(
            name="Independent Reviewing Officer", email=email
        )

    def _person(self, key: str, email: str, child: Child, esc: Escalation) -> Person:
        found = self.directory.resolve(key, team_key=child.team, iro_email=esc.iro_email)
        return found or Person(name=role_words(key).capitalize() or "Colleague", email=email)

    def _context(
        self, session: Session, esc: Escalation, child: Child, notice: Notice,
        people: tuple[Addressee, ...], today: dt.date,
    ) -> dict[str, Any]:
        """The notice's context, the same for every reader: addressed to the stage's manager,
        listing who has a copy; how it got here, the next stage and the steps so far in words."""
        stage = self.policy.stage(notice.stage)

        def name_of(key: str) -> str:
            return self._person(key, "", child, esc).name

        main = next((a for a in people if a.role == "to"), people[0])
        addressee = self._person(main.as_, main.email, child, esc)
        state = state_of(esc)
        # the response date of the stage the notice is about (a CAFCASS referral asks for none)
        due_row = deadline_by_key(session, response_key(esc.id, notice.stage))
        due = due_row.due_on if due_row is not None and notice.stage != CAFCASS else None
        ctx = escalation_notice(
            child,
            esc,
            Common(self.letterhead, self._iro(esc.iro_email), today),
            recipient=addressee,
            recipient_title="" if main.as_ == CAFCASS else role_words(main.as_).capitalize(),
            stage_title=stage.title,
            category_title=self.category_titles.get(esc.category, esc.category.replace("_", " ")),
            ceiling_on=self.policy.ceiling_date(esc.raised_on),
            history=wording.history(self.policy, state.steps, name_of),
            summary=wording.summary(self.policy, state),
            opening=wording.opening(self.policy, state.steps, notice.stage, name_of),
            next_stage=wording.next_stage(self.policy, notice.stage, due, name_of),
            copy_to=[{"name": name_of(a.as_), "role": role_words(a.as_)}
                     for a in people if a.role == "cc"],
            ladder_stage=self.policy.stage(esc.stage).title,
        )
        ctx["escalation"]["response_due_on"] = due
        return ctx

    def _for_reader(
        self, ctx: dict[str, Any], d: Dispatch, child: Child, esc: Escalation
    ) -> dict[str, Any]:
        """The covering email's context: greets its reader; a copy says why they have it."""
        as_ = str(d.params.get("as", ""))
        is_copy = d.params.get("role") != "to"
        reader = self._person(as_, d.recipient, child, esc)
        return with_mailbox(
            {**ctx, "recipient": contact_recipient(reader),
             "addressee": {"name": ctx["recipient"]["name"],
                           "role": ctx["recipient"]["organisation"]},
             "copy": {"reason": wording.copy_reason(self.policy, as_, state_of(esc).steps)
                      if is_copy else ""}},
            self.mailbox_name or self.letterhead.service,
            is_copy=is_copy,
        )

    def _email(self, kind: str, ctx: dict[str, Any], child: Child) -> tuple[str, str]:
        text = render_email(self.engine.templates_dir, kind, ctx)
        refuse_names_in_subject(
            kind, text.subject, (child.given_name, child.family_name, ctx["recipient"]["name"])
        )
        return text.subject, text.body

    def notice(self, session: Session, d: Dispatch, context: ComposeContext) -> OutgoingMessage:
        esc, child, notice, people = self._load(session, d)
        stage = self.policy.stage(notice.stage)
        ctx = self._context(session, esc, child, notice, people, context.clock.today())
        document = self.engine.render(stage.template, ctx, document_title(stage.template, ctx))
        subject, body = self._email("email_escalation", self._for_reader(ctx, d, child, esc),
                                    child)
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
        esc, child, notice, people = self._load(session, d)
        ctx = self._context(session, esc, child, notice, people, context.clock.today())
        ctx = self._for_reader(ctx, d, child, esc)
        ctx["alert"] = {"kind": notice.kind}
        subject, body = self._email("email_escalation_alert", ctx, child)
        return OutgoingMessage(
            dispatch_key=d.key,
            to=d.recipient,
            subject=subject,
            body_text=body,
            reply_to=context.reply_to,
        )

    def outcome(self, session: Session, d: Dispatch, context: ComposeContext) -> OutgoingMessage:
        """The short closing notice to someone who had a notice of this escalation: the outcome
        is in the attached note, never in the email body (as the concern)."""
        esc = session.get(Escalation, d.escalation_id) if d.escalation_id else None
        if esc is None:
            raise NotFoundError(f"dispatch {d.id} names no escalation")
        if d.recipient.strip().lower() not in outcome_recipients(session, esc.id):
            raise PermanentDeliveryError(
                f"dispatch {d.id}: the address had no notice of this escalation; "
                "an outcome goes only to those who did"
            )
        child = session.get(Child, esc.child_id)
        assert child is not None  # a foreign key
        reader = self._person(str(d.params.get("as", "")), d.recipient, child, esc)
        state = state_of(esc)

        def name_of(key: str) -> str:
            return self._person(key, "", child, esc).name

        ctx = escalation_notice(
            child,
            esc,
            Common(self.letterhead, self._iro(esc.iro_email), context.clock.today()),
            recipient=reader,
            recipient_title="",
            stage_title=self.policy.stage(esc.resolved_stage or esc.stage).title,
            category_title=self.category_titles.get(esc.category, esc.category.replace("_", " ")),
            ceiling_on=self.policy.ceiling_date(esc.raised_on),
            history=wording.history(self.policy, state.steps, name_of),
            summary=wording.summary(self.policy, state),
        )
        resolver = self.directory.iro(esc.resolved_by or "") or (
            self.directory.iro_manager
            if (esc.resolved_by or "").lower() == self.directory.iro_manager.email else None
        )
        ctx["outcome"] = {"resolved_on": esc.resolved_on, "text": esc.outcome or "",
                          "by": resolver.name if resolver else "the Independent Reviewing Officer",
                          "to_resolver": d.recipient.strip().lower()
                          == (esc.resolved_by or "").strip().lower()}
        document = self.engine.render("escalation_resolved", ctx,
                                      document_title("escalation_resolved", ctx))
        subject, body = self._email(
            "email_escalation_outcome",
            with_mailbox(ctx, self.mailbox_name or self.letterhead.service),
            child,
        )
        return OutgoingMessage(
            dispatch_key=d.key,
            to=d.recipient,
            subject=subject,
            body_text=body,
            reply_to=context.reply_to,
            attachments=(Attachment(f"{escalation_ref(esc.id)}-resolved.docx", document, DOCX),),
        )

    def register(self) -> None:
        """Make these the composers for escalation dispatches (call at worker start-up)."""
        register_composer(NOTICE_KIND, self.notice)
        register_composer(OVERDUE_KIND, self.alert)
        register_composer(OUTCOME_KIND, self.outcome)
