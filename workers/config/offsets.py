"""Offsets as people say them.

For example ``15 working days before review`` or ``3 months after previous_review``.

Pure: parsing and description only. Applying an offset to a date is the calendar's job
(``WorkingCalendar.apply``), because working days depend on bank holidays and closures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Unit = Literal["working_days", "days", "weeks", "months"]
Direction = Literal["before", "after"]

_PATTERN = re.compile(
    r"^\s*(?P<n>\d+)\s+(?P<unit>working\s+days?|days?|weeks?|calendar\s+months?|months?)\s+"
    r"(?P<dir>before|after)\s+(?P<anchor>[a-z][a-z_]*)\s*$",
    re.IGNORECASE,
)
_UNITS: dict[str, Unit] = {
    "working day": "working_days",
    "working days": "working_days",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "calendar month": "months",
    "calendar months": "months",
}
FORMAT_HINT = "'<n> working days|days|weeks|months before|after <event>'"


@dataclass(frozen=True)
class Offset:
    amount: int
    unit: Unit
    direction: Direction
    anchor: str  # the event it counts from, e.g. review, held, looked_after, previous_review

    @property
    def signed(self) -> int:
        return self.amount if self.direction == "after" else -self.amount

    def __str__(self) -> str:
        unit = self.unit.replace("_", " ")
        if self.amount == 1:
            unit = unit[:-1]
        return f"{self.amount} {unit} {self.direction} {self.anchor}"


def parse_offset(text: str, anchors: frozenset[str] | None = None) -> Offset:
    """Parse ``'15 working days before review'``; raise ValueError with the expected form."""
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(f"expected {FORMAT_HINT}, got {text!r}")
    unit = _UNITS[" ".join(match["unit"].lower().split())]
    anchor = match["anchor"].lower()
    if anchors is not None and anchor not in anchors:
        raise ValueError(f"unknown event {anchor!r} in {text!r}; expected one of {sorted(anchors)}")
    direction: Direction = "before" if match["dir"].lower() == "before" else "after"
    return Offset(int(match["n"]), unit, direction, anchor)
