"""Applying the escalation machine to the store (``escalation.planned`` makes its rows).

Callers own the transaction: these functions add and flush, never commit. Email goes out only
through ``Dispatch`` rows (kind ``escalation_notice`` or ``escalation_overdue``) with unique keys
such as ``ESC-12/stage/deputy_manager/to/<email>``, so applying a transition twice plans nothing
twice. Every step is an audit event whose details carry ids and keys, never the concern text.

A step entered after the fact (``--on`` a past date) records the stages it passes through but
does not tell their managers: its notice waits ``BACKDATED_HOLD`` so the rest of the history can
be entered, and a later back-dated step that moves the stage on calls off the notices of the
stage it leaves that have not gone. Only the stage the escalation is at when the history is in
gets its notice, showing the steps as they happened (issue 15 §3).

A refused resolve is audited *and* raised: the caller should commit the session before letting
the RefusedError go (``commit_refusal``), so the refusal is on record while nothing else changed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import NotFoundError, RefusedError
from workers.escalation import machine as m
from workers.escalation.planned import plan_deadlines, plan_notice, plan_outcome
from workers.escalation.policy import Policy
from workers.escalation.recipients import DirectoryLike
from workers.escalation.refs import escalation_ref as escalation_ref  # the one spelling
from workers.reviews.records import cancel_pending
from workers.store.audit import record
from workers.store.models import (
    Child,
    Escalation,
    EscalationStep,
    Review,
)

log = logging.getLogger(__name__)

# How long a back-dated step's notice waits for the next step of the history to be entered.
BACKDATED_HOLD = dt.timedelta(minutes=15)


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
    """The escalation commands on one session, on the caller's clock."""

    session: Session
    policy: Policy
    directory: DirectoryLike
    clock: Clock = SYSTEM_CLOCK
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
        day = on or self.clock.today()
        t = m.raise_escalation(
            self.policy,
            iro_email=iro_email or child.iro_email,
            category=category,
            concern=concern,
            on=day,
            stage=stage,
            today=self.clock.today(),
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
        t = m.respond(self.policy, state_of(row), text=text, by=by, on=on or self.clock.today())
        self._apply(row, t)
        return row

    def advance(
        self, escalation_id: int, *, to: str | None = None, by: str = "", on: dt.date | None = None
    ) -> Escalation:
        row = self.get(escalation_id)
        today = self.clock.today()
        t = m.advance(self.policy, state_of(row), on=on or today, by=by, to=to, today=today)
        self._apply(row, t)
        return row

    def refer_cafcass(
        self, escalation_id: int, *, by: str = "", on: dt.date | None = None
    ) -> Escalation:
        row = self.get(escalation_id)
        today = self.clock.today()
        t = m.refer_cafcass(self.policy, state_of(row), on=on or today, by=by, today=today)
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
                on=on or self.clock.today(),
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
        t = m.tick(self.policy, state_of(row), today=today or self.clock.today())
        if t.changed:
            self._apply(row, t)
        return t

    # -- the shell -------------------------------------------------------------------------

    def _apply(self, row: Escalation, t: m.Transition, child: Child | None = None) -> None:
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
        today, now = self.clock.today(), self.clock.now()
        plan_deadlines(self.session, self.policy, row.id, t.steps, today=today)
        child = child or self.session.get(Child, row.child_id)
        assert child is not None  # a foreign key
        late = any(s.on < today for s in t.steps if s.action in m.STARTS_A_STAGE)
        if late and any(s.action != "raised" for s in t.steps if s.action in m.STARTS_A_STAGE):
            self._call_off_passed_stages(row)
        for notice in t.notices:
            self.planned += plan_notice(
                self.session, self.policy, self.directory, row, notice, child.team,
                now + BACKDATED_HOLD if late else now,
            )
        if any(s.action == "resolved" for s in t.steps):
            self.planned += plan_outcome(self.session, row, now)
        self.session.flush()
        self.session.expire(row, ["steps"])


    def _call_off_passed_stages(self, row: Escalation) -> None:
        """A back-dated move: the stage left behind was passed before anyone entered it, so
        its notices not yet sent are called off (the current stage's notice carries the history;
        a CAFCASS referral runs alongside the ladder and is kept)."""
        ref = escalation_ref(row.id)
        for stage in self.policy.stages:
            if stage.key in (row.stage, m.CAFCASS):
                continue
            called_off = cancel_pending(self.session, f"{ref}/stage/{stage.key}/")
            if called_off:
                audit(self.session, "escalation.notices_called_off", "system", row.id,
                      stage=stage.key, dispatches=called_off, reason="back-dated: stage passed")


def commit_refusal(session: Session) -> None:
    """Keep the audit event of a refused action (nothing else was changed)."""
    session.commit()
