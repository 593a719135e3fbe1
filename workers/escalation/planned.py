"""What an escalation's transition leaves in the store: its deadlines and its notices to send.

Rows are found or made by unique key (``workers.store.keyed``): a response deadline is
``ESC-12/response/<stage>``, a notice ``ESC-12/stage/<stage>/<role>/<email>``, so applying the
same transition twice plans nothing twice. Callers own the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.escalation import machine as m
from workers.escalation.policy import Policy
from workers.escalation.recipients import DirectoryLike, addressees
from workers.escalation.refs import escalation_ref, response_key
from workers.store.audit import record
from workers.store.keyed import deadline_by_key, ensure_deadline, ensure_dispatch
from workers.store.models import Dispatch, Escalation

NOTICE_KIND = "escalation_notice"
OVERDUE_KIND = "escalation_overdue"
OUTCOME_KIND = "escalation_outcome"


def plan_deadlines(
    session: Session, policy: Policy, escalation_id: int, steps: Iterable[m.Step],
    today: dt.date | None = None,
) -> None:
    """Open each new stage's response deadline and the ceiling; meet those a step answers.
    A stage entered after the fact runs its response time from ``today`` (as the machine does)."""
    ref = escalation_ref(escalation_id)
    for step in steps:
        if step.action in ("responded", "resolved"):
            _meet(session, policy, response_key(escalation_id, step.stage), step.on)
        if step.action == "resolved":
            _meet(session, policy, f"{ref}/ceiling", step.on)
        if step.action in m.STARTS_A_STAGE:
            due = policy.response_due(step.stage, max(step.on, today or step.on))
            if due is not None:
                _open(session, response_key(escalation_id, step.stage), escalation_id, step.on, due,
                      "escalation_response")
        if step.action == "raised":
            _open(session, f"{ref}/ceiling", escalation_id, step.on,
                  policy.ceiling_date(step.on), "escalation_ceiling")


def plan_notice(
    session: Session,
    policy: Policy,
    directory: DirectoryLike,
    row: Escalation,
    notice: m.Notice,
    team: str,
    now: dt.datetime,
) -> list[str]:
    """A dispatch to each addressee of ``notice``; returns the keys of those newly planned."""
    people = addressees(
        policy, directory, notice, team=team, iro_email=row.iro_email, ladder_stage=row.stage
    )
    ref = escalation_ref(row.id)
    planned: list[str] = []
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
            session,
            key,
            kind=kind,
            channel="email",
            state="pending",
            review_id=row.review_id,
            escalation_id=row.id,
            recipient=email,
            due_at=now,
            params={
                "escalation_id": row.id,
                "reason": notice.kind,
                "stage": notice.stage,
                "role": person.role,
                "as": person.as_,
                "template": policy.stage(notice.stage).template,
            },
        )
        if created:
            planned.append(key)
            record(session, "dispatch.planned", "escalation", row.id, actor="system",
                   dispatch_id=dispatch.id, key=key, kind=kind)
    return planned


def outcome_recipients(session: Session, escalation_id: int) -> dict[str, str]:
    """Everyone who had a notice of this escalation (not called off): address → directory key."""
    rows = session.scalars(
        select(Dispatch)
        .where(Dispatch.escalation_id == escalation_id, Dispatch.kind == NOTICE_KIND,
               Dispatch.state != "cancelled")
        .order_by(Dispatch.id)
    )
    found: dict[str, str] = {}
    for d in rows:
        found.setdefault(d.recipient.strip().lower(), str(d.params.get("as", "")))
    return found


def plan_outcome(session: Session, row: Escalation, now: dt.datetime) -> list[str]:
    """A short notice of the outcome to everyone who had a notice (issue 15 §3, closing)."""
    ref = escalation_ref(row.id)
    planned: list[str] = []
    for email, as_ in outcome_recipients(session, row.id).items():
        key = f"{ref}/outcome/{email}"
        dispatch, created = ensure_dispatch(
            session, key, kind=OUTCOME_KIND, channel="email", state="pending",
            review_id=row.review_id, escalation_id=row.id, recipient=email, due_at=now,
            params={"escalation_id": row.id, "reason": "outcome", "stage": row.stage,
                    "role": "to", "as": as_},
        )
        if created:
            planned.append(key)
            record(session, "dispatch.planned", "escalation", row.id, actor="system",
                   dispatch_id=dispatch.id, key=key, kind=OUTCOME_KIND)
    return planned


def _open(
    session: Session, key: str, escalation_id: int, start: dt.date, due: dt.date, kind: str
) -> None:
    ensure_deadline(session, key, kind=kind, escalation_id=escalation_id, started_on=start,
                    due_on=due, statutory=False)


def _meet(session: Session, policy: Policy, key: str, on: dt.date) -> None:
    deadline = deadline_by_key(session, key)
    if deadline is not None and deadline.met_on is None:
        deadline.met_on = on
        deadline.working_days_taken = policy.working_days(deadline.started_on, on)
        deadline.in_time = on <= deadline.due_on
