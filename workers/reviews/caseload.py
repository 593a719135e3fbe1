"""Each IRO's caseload: children, next reviews, write-ups in progress, midway checks due and
what is overdue.

Built from ``workers.store.deadline_queries.due_items`` (the same rows ``iro deadlines`` shows), so
the two views never disagree. Children by reference and initials only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workers.store.deadline_queries import DueItem

WRITE_UPS = ("decisions", "record")


@dataclass
class ChildLine:
    child_ref: str
    initials: str
    next_review_ref: str | None = None
    next_review_due: dt.date | None = None
    write_ups: list[str] = field(default_factory=list)  # "R-1 record due 2027-01-19"
    overdue: list[str] = field(default_factory=list)  # "R-1 decisions due 2027-01-05"
    # the midway check between reviews (issue 20 §2), while not yet overdue
    midway: list[str] = field(default_factory=list)  # "R-1 midway check due 2026-10-16"


@dataclass
class Caseload:
    iro_email: str
    children: list[ChildLine] = field(default_factory=list)

    @property
    def overdue_count(self) -> int:
        return sum(len(c.overdue) for c in self.children)


def _label(item: DueItem) -> str:
    # "review_due" reads "review due", and the date follows "due" once
    what = ("midway check" if item.kind == "midway"
            else item.kind.replace("_", " ").removesuffix(" due"))
    subject = item.review_ref or (f"escalation {item.escalation_id}" if item.escalation_id else "")
    return f"{subject} {what} due {item.due_on.isoformat()}".strip()


def caseloads(items: Iterable[DueItem]) -> list[Caseload]:
    """Group due items by IRO, then child; sorted by IRO and by the child's next review date."""
    lines: dict[tuple[str, str], ChildLine] = {}
    for item in items:
        key = (item.iro_email.lower(), item.child_ref)
        line = lines.setdefault(key, ChildLine(item.child_ref, item.initials))
        if item.kind == "review_due":
            line.next_review_ref, line.next_review_due = item.review_ref, item.due_on
        elif item.kind in WRITE_UPS and not item.overdue:
            line.write_ups.append(_label(item))
        elif item.kind == "midway" and not item.overdue:
            line.midway.append(_label(item))
        if item.overdue:
            line.overdue.append(_label(item))
    loads: dict[str, Caseload] = {}
    for (iro, _), line in lines.items():
        loads.setdefault(iro, Caseload(iro)).children.append(line)
    for load in loads.values():
        load.children.sort(key=lambda c: (c.next_review_due or dt.date.max, c.child_ref))
    return [loads[iro] for iro in sorted(loads)]


def as_json(loads: Iterable[Caseload]) -> list[dict[str, Any]]:
    return [
        {
            "iro_email": load.iro_email,
            "overdue_count": load.overdue_count,
            "children": [
                {
                    "child_ref": c.child_ref,
                    "initials": c.initials,
                    "next_review_ref": c.next_review_ref,
                    "next_review_due": c.next_review_due.isoformat() if c.next_review_due else None,
                    "write_ups": c.write_ups,
                    "overdue": c.overdue,
                    "midway": c.midway,
                }
                for c in load.children
            ],
        }
        for load in loads
    ]
