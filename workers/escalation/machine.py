"""The escalation state machine: pure functions from (policy, state, action) to a transition.

DESIGN.md §2 and the IRO Handbook (2010, chapter 6, "dispute resolution"; §6.2 the 20 working
days): the IRO first tries to resolve a concern informally, then escalates through levels of
seniority, each with a response timescale (5 working days as shipped; 20 in total). The IRO may
bypass a stage, may refer to CAFCASS at any point alongside the internal process, and only the
IRO (or the IRO manager) can close an escalation, when satisfied.

No I/O here: each function returns a ``Transition`` — the new state, the steps to record and the
notices to send — and the service layer applies it to the store. Concern and response texts
travel only in ``Step.text``; they are never put in error messages.

A step entered after the fact (``on`` before ``today``) keeps its date in the history, but the
stage it starts gives its manager the full response time from ``today`` (a notice cannot ask for
an answer by a date already gone), and a total ceiling already passed is recorded, not announced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal

from workers.errors import BadInputError, RefusedError
from workers.escalation.policy import CAFCASS, Policy, StageLike
from workers.inputs.text import check_text

OPEN = "open"
RESOLVED = "resolved"
SYSTEM = "system"
# the steps that put a concern at a stage (a notice goes to that stage's manager)
STARTS_A_STAGE = ("raised", "advanced", "bypassed", "timed_out")

NoticeKind = Literal["stage", "overdue", "ceiling"]


@dataclass(frozen=True)
class Step:
    """One thing that happened (an ``EscalationStep`` row)."""

    action: str  # raised, responded, advanced, bypassed, timed_out, referred_cafcass, overdue,
    # ceiling_passed, resolved
    stage: str
    on: dt.date
    by: str = ""
    text: str = ""


@dataclass(frozen=True)
class Notice:
    """A message the service must plan: a stage's notice, an overdue alert, or a ceiling alert."""

    kind: NoticeKind
    stage: str


@dataclass(frozen=True)
class State:
    iro_email: str
    category: str
    stage: str
    raised_on: dt.date
    stage_started_on: dt.date
    response_due_on: dt.date | None
    status: str = OPEN
    cafcass_referred_on: dt.date | None = None
    resolved_on: dt.date | None = None
    resolved_stage: str | None = None
    resolved_by: str | None = None
    outcome: str | None = None
    steps: tuple[Step, ...] = field(default=())

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def responded_at_stage(self) -> bool:
        return any(s.action == "responded" and s.stage == self.stage for s in self.steps)

    def overdue_told(self) -> bool:
        return any(s.action == "overdue" and s.stage == self.stage for s in self.steps)

    def ceiling_flagged(self) -> bool:
        return any(s.action == "ceiling_passed" for s in self.steps)


@dataclass(frozen=True)
class Transition:
    state: State
    steps: tuple[Step, ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.steps)


def _same_person(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip().lower() == b.strip().lower()


def _apply(state: State, steps: list[Step], notices: list[Notice], **changes: object) -> Transition:
    new = replace(state, **changes) if changes else state  # type: ignore[arg-type]
    new = replace(new, steps=new.steps + tuple(steps))
    return Transition(new, tuple(steps), tuple(notices))


def _response_from(on: dt.date, today: dt.date | None) -> dt.date:
    """The day a stage's response time runs from: the notice goes today, not on a past date."""
    return max(on, today) if today is not None else on


def _late_ceiling(
    policy: Policy, state: State, today: dt.date | None, steps: list[Step]
) -> None:
    """Record, without a notice, a total ceiling that had passed before the step was entered."""
    if today is None or not steps or steps[0].on >= today or state.ceiling_flagged():
        return
    if today > policy.ceiling_date(state.raised_on):
        steps.append(Step("ceiling_passed", steps[-1].stage if steps else state.stage, today,
                          by=SYSTEM, text="recorded late: passed before the steps were entered"))


def _require_open(state: State, doing: str) -> None:
    if not state.is_open:
        raise RefusedError(f"cannot {doing}: the escalation was resolved on {state.resolved_on}")


def _require_not_before(state: State, on: dt.date) -> None:
    if on < state.stage_started_on:
        raise BadInputError(
            f"date {on} is before the current stage {state.stage!r} started "
            f"({state.stage_started_on})"
        )


def raise_escalation(
    policy: Policy,
    *,
    iro_email: str,
    category: str,
    concern: str,
    on: dt.date,
    stage: str | None = None,
    today: dt.date | None = None,
) -> Transition:
    """Open an escalation at the first stage (or at ``stage``: the IRO may start higher up)."""
    if category not in policy.categories:
        raise BadInputError(
            f"unknown escalation category {category!r}; rules.yaml escalation.categories has "
            f"{', '.join(sorted(policy.categories))}"
        )
    if not concern.strip():
        raise BadInputError("--concern is empty: say what the concern is")
    check_text(concern, "--concern")
    if not iro_email.strip():
        raise BadInputError("no IRO email: give --iro or record the child's IRO")
    if not policy.stages:
        raise BadInputError("rules.yaml escalation.stages is empty")
    first = policy.stage(stage) if stage else policy.stages[0]
    if first.key == CAFCASS:
        raise RefusedError("raise at a local authority stage, then `iro escalate refer-cafcass ID`")
    state = State(
        iro_email=iro_email.strip(),
        category=category,
        stage=first.key,
        raised_on=on,
        stage_started_on=on,
        response_due_on=policy.response_due(first.key, _response_from(on, today)),
    )
    steps = [Step("raised", first.key, on, by=state.iro_email)]
    _late_ceiling(policy, state, today, steps)
    return _apply(state, steps, [Notice("stage", first.key)])


def respond(policy: Policy, state: State, *, text: str, by: str, on: dt.date) -> Transition:
    """Record a manager's response at the current stage; it stops the overdue timer."""
    _require_open(state, "record a response")
    _require_not_before(state, on)
    if not text.strip():
        raise BadInputError("--text is empty: give the manager's response")
    check_text(text, "--text")
    return _apply(state, [Step("responded", state.stage, on, by=by, text=text)], [])


def _move(
    policy: Policy, state: State, target: StageLike, *, on: dt.date, by: str, action: str,
    today: dt.date | None = None,
) -> Transition:
    changes: dict[str, object] = {
        "stage": target.key,
        "stage_started_on": on,
        "response_due_on": policy.response_due(target.key, _response_from(on, today)),
    }
    notices: list[Notice] = []
    if target.key == CAFCASS and state.cafcass_referred_on is not None:
        pass  # CAFCASS already has the referral; moving the ladder there sends nothing new
    else:
        notices.append(Notice("stage", target.key))
    if target.key == CAFCASS and state.cafcass_referred_on is None:
        changes["cafcass_referred_on"] = on
    steps = [Step(action, target.key, on, by=by)]
    _late_ceiling(policy, state, today, steps)
    return _apply(state, steps, notices, **changes)


def advance(
    policy: Policy, state: State, *, on: dt.date, by: str = "", to: str | None = None,
    today: dt.date | None = None,
) -> Transition:
    """Move to the next stage, or bypass to the named later stage, sending that stage's notice."""
    _require_open(state, "advance")
    _require_not_before(state, on)
    if to is None:
        target = policy.next_stage(state.stage)
        if target is None:
            raise RefusedError(f"stage {state.stage!r} is the last stage; nowhere to advance to")
        action = "advanced"
    else:
        target = policy.stage(to)
        if policy.index(target.key) <= policy.index(state.stage):
            raise RefusedError(
                f"cannot move from {state.stage!r} to {target.key!r}: stages only go up "
                f"({' → '.join(s.key for s in policy.stages)})"
            )
        nxt = policy.next_stage(state.stage)
        action = "advanced" if nxt is not None and nxt.key == target.key else "bypassed"
    return _move(policy, state, target, on=on, by=by or state.iro_email, action=action,
                 today=today)


def refer_cafcass(
    policy: Policy, state: State, *, on: dt.date, by: str = "", today: dt.date | None = None
) -> Transition:
    """Refer to CAFCASS alongside the internal process: the stage does not change."""
    _require_open(state, "refer to CAFCASS")
    _require_not_before(state, on)
    if not policy.has_cafcass():
        raise BadInputError("rules.yaml escalation.stages has no 'cafcass' stage to refer to")
    if state.cafcass_referred_on is not None:
        raise RefusedError(f"already referred to CAFCASS on {state.cafcass_referred_on}")
    steps = [Step("referred_cafcass", CAFCASS, on, by=by or state.iro_email)]
    _late_ceiling(policy, state, today, steps)
    return _apply(state, steps, [Notice("stage", CAFCASS)], cafcass_referred_on=on)


def may_resolve(state: State, by: str, iro_manager: str) -> bool:
    """Only the IRO who raised it, or the IRO manager, may close an escalation (DESIGN.md §2)."""
    return _same_person(by, state.iro_email) or _same_person(by, iro_manager)


def resolve(
    policy: Policy, state: State, *, by: str, outcome: str, on: dt.date, iro_manager: str
) -> Transition:
    """Close the escalation. Anyone but the raising IRO or the IRO manager is refused."""
    if not may_resolve(state, by, iro_manager):
        raise RefusedError(
            "only the IRO who raised this escalation, or the IRO manager, may resolve it; "
            f"{by or 'an unnamed person'} may not"
        )
    _require_open(state, "resolve")
    _require_not_before(state, on)
    if not outcome.strip():
        raise BadInputError("--outcome is empty: say how the concern was resolved")
    check_text(outcome, "--outcome")
    step = Step("resolved", state.stage, on, by=by.strip(), text=outcome)
    return _apply(
        state,
        [step],
        [],
        status=RESOLVED,
        resolved_on=on,
        resolved_stage=state.stage,
        resolved_by=by.strip(),
        outcome=outcome,
        response_due_on=None,
    )


def tick(policy: Policy, state: State, *, today: dt.date) -> Transition:
    """The scheduler's look at one escalation on ``today``.

    An unanswered stage past its response date advances on its own where the stage says so;
    otherwise the IRO is told, once per stage. Passing the total ceiling is flagged once.
    """
    if not state.is_open:
        return Transition(state)
    current = state
    steps: list[Step] = []
    notices: list[Notice] = []
    due = current.response_due_on
    if due is not None and today > due and not current.responded_at_stage():
        stage = policy.stage(current.stage)
        nxt = policy.next_stage(current.stage)
        if stage.auto_advance_on_timeout and nxt is not None:
            moved = _move(policy, current, nxt, on=today, by=SYSTEM, action="timed_out")
            current, steps, notices = moved.state, [*moved.steps], [*moved.notices]
        elif not current.overdue_told():
            step = Step("overdue", current.stage, today, by=SYSTEM)
            steps.append(step)
            notices.append(Notice("overdue", current.stage))
            current = replace(current, steps=current.steps + (step,))
    if not current.ceiling_flagged() and today > policy.ceiling_date(current.raised_on):
        step = Step("ceiling_passed", current.stage, today, by=SYSTEM)
        steps.append(step)
        notices.append(Notice("ceiling", current.stage))
        current = replace(current, steps=current.steps + (step,))
    return Transition(current, tuple(steps), tuple(notices))


def days_at_stage(policy: Policy, state: State, today: dt.date) -> int:
    """Working days since the current stage began (to the resolution date once resolved)."""
    end = state.resolved_on or today
    return max(0, policy.working_days(state.stage_started_on, end))


def total_days(policy: Policy, state: State, today: dt.date) -> int:
    """Working days since it was raised (to the resolution date once resolved)."""
    end = state.resolved_on or today
    return max(0, policy.working_days(state.raised_on, end))


def past_ceiling(policy: Policy, state: State, today: dt.date) -> bool:
    end = state.resolved_on or today
    return end > policy.ceiling_date(state.raised_on)
