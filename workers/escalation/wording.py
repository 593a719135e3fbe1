"""What an escalation notice says, in words, for the person reading it (issue 15 §3). Pure.

Every reader gets the same notice: it is addressed to the stage's manager and lists who has a
copy. How the concern reached this stage is said as it happened (raised here directly, escalated
after no answer, a stage skipped), the next stage is named with its manager and the date it goes
there without a response, and the steps so far are in words, never the stored action keys.

The citation is the IRO Handbook 2010, chapter 6 (dispute resolution); §6.2 is its 20 working
days. It is kept here and in the templates' text as the one spelling (``CITATION``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workers.config.offsets import Offset
from workers.documents.contexts import HistoryItem
from workers.documents.filters import uk_date
from workers.escalation import machine as m
from workers.escalation.policy import CAFCASS, Policy

CITATION = "IRO Handbook 2010, chapter 6, §6.2"

ACTION_WORDS = {
    "raised": "Concern raised",
    "responded": "Response received",
    "advanced": "Escalated to the next stage",
    "bypassed": "Escalated straight to a later stage",
    "timed_out": "Escalated: no response by the date asked",
    "referred_cafcass": "Referred to CAFCASS",
    "overdue": "No response by the date asked",
    "ceiling_passed": "Past the 20 working days allowed in total",
    "resolved": "Resolved",
}

ROLE_WORDS = {
    "iro": "Independent Reviewing Officer",
    "iro_manager": "IRO manager",
    "team_manager": "team manager",
    "deputy_manager": "deputy manager",
    "group_manager": "group manager",
    "head_of_service": "head of service",
    "assistant_director": "assistant director",
    "cafcass": "CAFCASS",
}

_NEXT_DAY = Offset(1, "working_days", "after", "response_due")


def role_words(key: str) -> str:
    return ROLE_WORDS.get(key, key.replace("_", " "))


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Named:
    """Someone the notice names: their name and what they are, in words."""

    name: str
    key: str

    @property
    def words(self) -> str:
        return role_words(self.key)

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.words}


NameOf = Callable[[str], str]  # a recipient key (deputy_manager, team_manager, …) → a name


def _title(policy: Policy, key: str) -> str:
    return policy.stage(key).title


def _manager(policy: Policy, stage_key: str, name_of: NameOf) -> str:
    stage = policy.stage(stage_key)
    return ", ".join(name_of(k) for k in stage.recipients)


def _stage_step(steps: Sequence[m.Step], stage: str) -> tuple[int, m.Step] | None:
    """The step that brought the escalation to ``stage`` (the latest one)."""
    found = None
    for i, s in enumerate(steps):
        if s.stage == stage and s.action in m.STARTS_A_STAGE:
            found = (i, s)
    return found


def _previous_stage(steps: Sequence[m.Step], before: int) -> str | None:
    for s in reversed(steps[:before]):
        if s.action in m.STARTS_A_STAGE:
            return s.stage
    return None


def opening(policy: Policy, steps: Sequence[m.Step], stage: str, name_of: NameOf) -> str:
    """How the concern reached ``stage``, as it happened; empty for a first-stage raise."""
    found = _stage_step(steps, stage)
    if found is None:
        return ""
    i, step = found
    keys = [s.key for s in policy.stages]
    if step.action == "raised":
        if keys.index(stage) == 0:
            return ""
        skipped = [_title(policy, k) for k in keys[: keys.index(stage)] if k != CAFCASS]
        return (
            f"I am raising this concern with you directly at this stage of the dispute "
            f"resolution process, without the earlier stages ({'; '.join(skipped)}), as the "
            "procedure allows."
        )
    prev = _previous_stage(steps, i)
    if prev is None:
        return ""
    since = next((s.on for s in steps[:i] if s.stage == prev), step.on)
    who = _manager(policy, prev, name_of)
    if step.action == "timed_out":
        return (
            f"The concern was with {who} ({_title(policy, prev)}) from {uk_date(since)} and no "
            f"response was received by the date asked, so it came to you on {uk_date(step.on)}."
        )
    if step.action == "bypassed":
        skipped = [_title(policy, k) for k in keys[keys.index(prev) + 1 : keys.index(stage)]]
        return (
            f"The concern was with {who} ({_title(policy, prev)}) from {uk_date(since)}. It has "
            f"not been resolved, so on {uk_date(step.on)} I escalated it straight to you, "
            f"without {'; '.join(skipped)}."
        )
    return (
        f"The concern was with {who} ({_title(policy, prev)}) from {uk_date(since)} and has "
        f"not been resolved, so on {uk_date(step.on)} I escalated it to you."
    )


def next_stage(
    policy: Policy, stage: str, response_due: dt.date | None, name_of: NameOf
) -> dict[str, Any] | None:
    """The stage the concern goes to without a response, its manager and the date it goes."""
    if response_due is None:
        return None
    nxt = policy.next_stage(stage)
    if nxt is None:
        return None
    on = policy.calendar.apply(_NEXT_DAY, response_due)
    return {"title": nxt.title, "manager": _manager(policy, nxt.key, name_of), "on": on,
            "is_cafcass": nxt.key == CAFCASS}


def history(policy: Policy, steps: Sequence[m.Step], name_of: NameOf) -> list[HistoryItem]:
    """The steps so far in words, each with a short summary (the recorded text where there is
    one: a manager's response, the outcome)."""
    titles = {s.key: s.title for s in policy.stages}
    out = []
    for s in steps:
        summary = s.text
        if not summary and s.action in (*m.STARTS_A_STAGE,
                                                            "referred_cafcass"):
            summary = f"Sent to {_manager(policy, s.stage, name_of)}"
        out.append(HistoryItem(s.on, titles.get(s.stage, s.stage), action_words(s.action),
                               summary))
    return out


def summary(policy: Policy, state: m.State) -> str:
    """One sentence: when it was raised, where it is now, how many answers came."""
    responses = sum(1 for s in state.steps if s.action == "responded")
    stages = len({s.stage for s in state.steps if s.action in ("raised", "advanced", "bypassed",
                                                               "timed_out")})
    first = state.steps[0] if state.steps else None
    raised = (f"Raised on {uk_date(state.raised_on)} at {_title(policy, first.stage)}"
              if first else f"Raised on {uk_date(state.raised_on)}")
    answers = {0: "no response yet", 1: "1 response"}.get(responses, f"{responses} responses")
    where = (f"resolved on {uk_date(state.resolved_on)} at "
             f"{_title(policy, state.resolved_stage or state.stage)}"
             if state.resolved_on else
             f"now at {_title(policy, state.stage)} since {uk_date(state.stage_started_on)}")
    text = f"{raised}; {stages} stage{'s' if stages != 1 else ''} so far, {answers}; {where}"
    if state.cafcass_referred_on:
        text += f"; referred to CAFCASS on {uk_date(state.cafcass_referred_on)}"
    return text + "."


def copy_reason(policy: Policy, key: str, steps: Sequence[m.Step] = ()) -> str:
    """Why someone copied has the notice, for the covering email: only a stage the concern
    was really at is "with you"; a stage it was raised above or skipped says so."""
    if key == "iro":
        return "you raised this escalation as the child's Independent Reviewing Officer"
    if key == "iro_manager":
        return "you manage the Independent Reviewing Service"
    reached = {s.stage for s in steps if s.action in ("raised", "advanced", "bypassed",
                                                      "timed_out")}
    stages = [s for s in policy.stages if key in s.recipients]
    were = [s.title for s in stages if s.key in reached]
    if were:
        return f"the concern was with you at an earlier stage ({were[0]})"
    if stages:
        return (f"the concern went past your stage ({stages[0].title}) without coming to you, "
                "and you are kept informed")
    return f"you are kept informed as the {role_words(key)}"
