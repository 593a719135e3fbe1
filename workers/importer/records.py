"""The records an import produces: pure data, and the one error that lists every bad row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from workers.errors import ImportRowError

MAX_LISTED_ERRORS = 200


@dataclass(frozen=True)
class ChildRecord:
    ref: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    looked_after_since: dt.date
    team: str
    iro_email: str
    placement: str
    legal_status: str


@dataclass(frozen=True)
class ReviewRecord:
    ref: str
    child_ref: str
    sequence: int
    previous_review_on: dt.date | None
    scheduled_at: dt.datetime
    venue: str
    iro_email: str
    due_on: dt.date  # latest date allowed by reg 33, from rules.yaml review_timescales
    placement_confidential: bool = False  # the placement address is withheld (issue 16)


@dataclass(frozen=True)
class ParticipantRecord:
    review_ref: str
    ref: str
    role: str
    name: str
    organisation: str
    relationship_to_child: str
    email: str | None
    email_confirmed: bool
    address: str | None
    postcode: str | None
    channel: str
    placement_withheld: bool | None = None  # None: by role (workers.casework.confidential)


@dataclass(frozen=True)
class ImportPlan:
    source: str
    rows: int
    children: dict[str, ChildRecord]
    reviews: dict[str, ReviewRecord]
    participants: tuple[ParticipantRecord, ...]
    lines: dict[str, int]  # "child:C-1" / "review:R-1" / "participant:R-1/P-1" → first line
    # imported, but worth a look: "line 7: review R-1 meets on 2027-01-09, a Saturday; …"
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.reason}"


def raise_errors(source: str, errors: Sequence[RowError]) -> None:
    """Raise one ImportRowError listing ``errors`` (sorted by line), if there are any."""
    if not errors:
        return
    ordered = sorted(errors, key=lambda e: (e.line, e.column or ""))
    listed = [f"  {e}" for e in ordered[:MAX_LISTED_ERRORS]]
    if len(ordered) > MAX_LISTED_ERRORS:
        listed.append(f"  … and {len(ordered) - MAX_LISTED_ERRORS} more")
    count = f"{len(ordered)} error" + ("s" if len(ordered) > 1 else "")
    raise ImportRowError(f"{source}: {count}; nothing was imported:\n" + "\n".join(listed))
