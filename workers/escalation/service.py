"""Applying the escalation machine to the store, and planning the notices as dispatch rows.

Callers own the transaction: these functions add and flush, never commit. Email goes out only
through ``Dispatch`` rows (kind ``escalation_notice`` or ``escalation_overdue``) with unique keys
such as ``ESC-12/stage/deputy_manager/to/<email>``, so applying a transition twice plans nothing
twice. Every step is an audit event whose details carry ids and keys, never the concern text.

A refused resolve is audited *and* raised: the caller should commit the session before letting
the RefusedError go (``commit_refusal``), so the refusal is on record while nothing else changed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.clock import london_today
from workers.errors import NotFoundError, RefusedError
from workers.escalation import machine as m
from workers.escalation.policy import Policy
from workers.escalation.recipients import DirectoryLike, addressees
from workers.escalation.refs import escalation_ref as escalation_ref  # the one spelling
from workers.store.audit import record
from workers.store.keyed import deadline_by_key, ensure_deadline, ensure_dispatch
from workers.store.models import (
    Child,
    Escalation,
    EscalationStep,
    Review,
    utcnow,
)

log = logging.getLogger(__name__)

NOTICE_KIND = "escalation_notice"
OVERDUE_KIND = "escalation_overdue"


def state_of(row: Escalation) -> m.State:
    return m.State(
        iro_email=row.iro_email,
        category=row.category,
        stage=row.stage,
        raised_on=row.raised_on,
        stage_started_on=row.stage_started_on,
        response_due_on=row.response_due_on,
        status=row.status,
        cafcass_referred_on=row.cafcass_referred_on,
        resolved_on=row.resolved_on,
        resolved_stage=row.resolved_stage,
        resolved_by=row.resolved_by,
        outcome=row.outcome,
        steps=tuple(m.Step(s.action, s.stage, s.on, s.by, s.text) for s in row.steps),
    )


def _copy_state(row: Escalation, state: m.State) -> None:
    row.stage = state.stage
    row.status = state.status
    row.stage_started_on = state.stage_started_on
    row.response_due_on = state.response_due_on
    row.cafcass_referred_on = state.cafcass_referred_on
    row.resolved_on = state.resolved_on
    row.resolved_stage = state.resolved_stage
    row.resolved_by = state.resolved_by
    row.outcome = state.outcome


def audit(
    session: Session, action: str, actor: str, escalation_id: int | None, **details: Any
) -> None:
    record(session, action, "escalation", escalation_id, actor=actor or "system", **details)


@dataclass
class EscalationService:
    """The escalation commands on one session; ``today`` is injectable (tests, back-dating)."""

    session: Session
    policy: Policy
    directory: DirectoryLike
    today: Callable[[], dt.date] = field(default=london_today)
    now: Callable[[], dt.datetime] = field(default=utcnow)
    planned: list[str] = field(default_factory=list)  # dispatch keys planned by this service

    # -- reading ---------------------------------------------------------------------------

    def get(self, escalation_id: int) -> Escalation:
        row = self.session.get(Escalation, escalation_id)
        if row is None:
            raise NotFoundError(f"no escalation {escalation_id}; `iro escalations` lists them")
        return row

    # -- commands --------------------------------------------------------------------------

    def raise_(
        self,
        child_ref: str,
        *,
        concern: str,
        category: str,
        stage: str | None = None,
        review_ref: str | None = None,
        iro_email: str | None = None,
        on: dt.date | None = None,
    ) -> Escalation:
        child = self.session.scalars(select(Child).where(Child.ref == child_ref)).one_or_none()
        if child is None:
            raise NotFoundError(f"no child {child_ref!r} in the store; import the case first")
        review_id = None
        if review_ref:
            review = self.session.scalars(select(Review).where(Review.ref == review_ref)).first()
            if review is None or review.child_id != child.id:
                raise NotFoundError(f"no review {review_ref!r} for child {child_ref}")
            review_id = review.id
        day = on or self.today()
        t = m.raise_escalation(
            self.policy,
            iro_email=iro_email or child.iro_email,
            category=category,
            concern=concern,
            on=day,
            stage=stage,
        )
        row = Escalation(
            child_id=child.id,
            review_id=review_id,
            iro_email=t.state.iro_email,
            category=category,
            concern=concern,
            stage=t.state.stage,
            raised_on=day,
            stage_started_on=day,
        )
        self.session.add(row)
        self.session.flush()
        self._apply(row, t, child=child)
        return row

    def respond(
        self, escalation_id: int, *, text: str, by: str = "", on: dt.date | None = None
    ) -> Escalation:
        row = self.get(escalation_id)
        t = m.respond(self.policy, state_of(row), text=text, by=by, on=on or self.today())
        self._apply(row, t)
        return row

    def advance(
        self, escalation_id: int, *, to: str | None = None, by: str = "", on: dt.date | None = None
    ) -> Escalation:
        row = self.get(escalation_id)
        t = m.advance(self.policy, state_of(row), on=on or self.today(), by=by, to=to)
        self._apply(row, t)
        return row

    def refer_cafcass(
        self, escalation_id: int, *, by: str = "", on: dt.date | None = None
    ) -> Escalation:
        row = self.get(escalation_id)
        t = m.refer_cafcass(self.policy, state_of(row), on=on or self.today(), by=by)
        self._apply(row, t)
        return row

    def resolve(
        self, escalation_id: int, *, outcome: str, by: str, on: dt.date | None = None
    ) -> Escalation:
        row = self.get(escalation_id)
        try:
            t = m.resolve(
                self.policy,
                state_of(row),
                by=by,
                outcome=outcome,
                on=on or self.today(),
                iro_manager=self.directory.iro_manager.email,
            )
        except RefusedError:
            audit(self.session, "escalation.resolve_refused", by, row.id, stage=row.stage)
            self.session.flush()
            log.warning("escalation %s: resolve refused", row.id)
            raise
        self._apply(row, t)
        return row

    def tick(self, row: Escalation, today: dt.date | None = None) -> m.Transition:
        """The scheduler's look at one open escalation (overdue, timeout, ceiling)."""
        t = m.tick(self.policy, state_of(row), today=today or self.today())
        if t.changed:
            self._apply(row, t)
        return t

    # -- the shell -------------------------------------------------------------------------

    def _apply(self, row: Escalation, t: m.Transition, child: Child | None = None) -> None:
        before_stage = row.stage
        _copy_state(row, t.state)
        for step in t.steps:
            self.session.add(
                EscalationStep(
                    escalation_id=row.id,
                    action=step.action,
                    stage=step.stage,
                    on=step.on,
                    by=step.by,
                    text=step.text,
                )
            )
            audit(
                self.session,
                f"escalation.{step.action}",
                step.by,
                row.id,
                stage=step.stage,
                on=step.on.isoformat(),
                child_id=row.child_id,
                category=row.category,
            )
            log.info("escalation %s: %s at %s", row.id, step.action, step.stage)
        self._deadlines(row, t, before_stage)
        child = child or self.session.get(Child, row.child_id)
        assert child is not None  # a foreign key
        for notice in t.notices:
            self._plan(row, notice, child.team)
        self.session.flush()
        self.session.expire(row, ["steps"])

    def _deadlines(self, row: Escalation, t: m.Transition, before_stage: str) -> None:
        ref = escalation_ref(row.id)
        for step in t.steps:
            if step.action == "responded" or step.action == "resolved":
                self._meet(f"{ref}/response/{step.stage}", step.on)
            if step.action == "resolved":
                self._meet(f"{ref}/ceiling", step.on)
            if step.action in ("raised", "advanced", "bypassed", "timed_out"):
                due = self.policy.response_due(step.stage, step.on)
                if due is not None:
                    self._deadline(f"{ref}/response/{step.stage}", row.id, step.on, due)
            if step.action == "raised":
                self._deadline(
                    f"{ref}/ceiling",
                    row.id,
                    step.on,
                    self.policy.ceiling_date(step.on),
                    kind="escalation_ceiling",
                )

    def _deadline(
        self,
        key: str,
        escalation_id: int,
        start: dt.date,
        due: dt.date,
        kind: str = "escalation_response",
    ) -> None:
        ensure_deadline(
            self.session,
            key,
            kind=kind,
            escalation_id=escalation_id,
            started_on=start,
            due_on=due,
            statutory=False,
        )

    def _meet(self, key: str, on: dt.date) -> None:
        d = deadline_by_key(self.session, key)
        if d is not None and d.met_on is None:
            d.met_on = on
            d.working_days_taken = self.policy.working_days(d.started_on, on)
            d.in_time = on <= d.due_on

    def _plan(self, row: Escalation, notice: m.Notice, team: str) -> None:
        people = addressees(
            self.policy,
            self.directory,
            notice,
            team=team,
            iro_email=row.iro_email,
            ladder_stage=row.stage,
        )
        ref = escalation_ref(row.id)
        for person in people:
            email = person.email.strip().lower()
            if notice.kind == "stage":
                key, kind = f"{ref}/stage/{notice.stage}/{person.role}/{email}", NOTICE_KIND
            elif notice.kind == "overdue":
                key, kind = f"{ref}/overdue/{notice.stage}/{person.role}/{email}", OVERDUE_KIND
            else:
                key, kind = f"{ref}/ceiling/{person.role}/{email}", OVERDUE_KIND
            # a second planner racing this one (the timer scan, a retry) takes the row that won
            dispatch, created = ensure_dispatch(
                self.session,
                key,
                kind=kind,
                channel="email",
                state="pending",
                review_id=row.review_id,
                escalation_id=row.id,
                recipient=email,
                due_at=self.now(),
                params={
                    "escalation_id": row.id,
                    "reason": notice.kind,
                    "stage": notice.stage,
                    "role": person.role,
                    "as": person.as_,
                    "template": self.policy.stage(notice.stage).template,
                },
            )
            if not created:
                continue
            self.planned.append(key)
            audit(
                self.session,
                "dispatch.planned",
                "system",
                row.id,
                dispatch_id=dispatch.id,
                key=key,
                kind=kind,
            )


def commit_refusal(session: Session) -> None:
    """Keep the audit event of a refused action (nothing else was changed)."""
    session.commit()
