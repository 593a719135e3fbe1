"""What `iro escalations` shows: one row per escalation, and one escalation's history.

Pure over loaded rows. The list carries references and codes (child ref, category, stage), never
the concern; the history is for the person looking at the record and shows the step texts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from workers.escalation import machine as m
from workers.escalation.policy import Policy
from workers.escalation.service import escalation_ref, state_of
from workers.store.models import Escalation

LIST_FIELDS = (
    "ref",
    "id",
    "child",
    "category",
    "stage",
    "status",
    "raised_on",
    "response_due_on",
    "days_at_stage",
    "total_days",
    "over_ceiling",
    "cafcass_referred_on",
    "resolved_on",
)


@dataclass(frozen=True)
class ListRow:
    ref: str
    id: int
    child: str
    category: str
    stage: str
    status: str
    raised_on: str
    response_due_on: str
    days_at_stage: int
    total_days: int
    over_ceiling: bool
    cafcass_referred_on: str
    resolved_on: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def list_row(policy: Policy, row: Escalation, child_ref: str, today: dt.date) -> ListRow:
    state = state_of(row)
    return ListRow(
        ref=escalation_ref(row.id),
        id=row.id,
        child=child_ref,
        category=row.category,
        stage=row.stage,
        status=row.status,
        raised_on=_iso(row.raised_on),
        response_due_on=_iso(row.response_due_on),
        days_at_stage=m.days_at_stage(policy, state, today),
        total_days=m.total_days(policy, state, today),
        over_ceiling=m.past_ceiling(policy, state, today),
        cafcass_referred_on=_iso(row.cafcass_referred_on),
        resolved_on=_iso(row.resolved_on),
    )


@dataclass(frozen=True)
class HistoryLine:
    on: str
    action: str
    stage: str
    by: str
    text: str


def history(row: Escalation) -> list[HistoryLine]:
    return [HistoryLine(s.on.isoformat(), s.action, s.stage, s.by, s.text) for s in row.steps]
