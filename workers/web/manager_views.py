"""What a manager's home page shows beside the escalations: each IRO's caseload and timeliness
this report year (the annual report's "reviews per IRO"), and when that year began.

Read-only queries, grouped in the database; children by reference and initials only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from workers.store.models import Child, Review


@dataclass(frozen=True)
class IroLine:
    name: str
    email: str
    children: int  # looked after now
    held: int  # reviews held this report year
    in_timescale: int
    overdue_reviews: int
    overdue_write_ups: int

    @property
    def in_timescale_pct(self) -> float | None:
        return round(100 * self.in_timescale / self.held, 1) if self.held else None


def report_year_start(today: dt.date) -> dt.date:
    return dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def caseloads(session: Session, names: Mapping[str, str], overdue: Mapping[tuple[str, bool], int],
              today: dt.date) -> list[IroLine]:
    """One line per IRO in the directory or with a child, by name; ``overdue``: how many items
    are past their date per (IRO, is it a review) (``due_sql.overdue_by_iro``)."""
    children = dict(session.execute(
        select(Child.iro_email, func.count()).where(Child.ceased_on.is_(None))
        .group_by(Child.iro_email)).all())
    held = {email: (int(n), int(ok or 0)) for email, n, ok in session.execute(
        select(Review.iro_email, func.count(),
               func.sum(case((Review.in_timescale.is_(True), 1), else_=0)))
        .where(Review.held_on >= report_year_start(today), Review.held_on <= today)
        .group_by(Review.iro_email))}
    late_reviews = {email: n for (email, review), n in overdue.items() if review}
    late_write_ups = {email: n for (email, review), n in overdue.items() if not review}
    emails = set(names) | set(children) | set(held)
    return sorted((IroLine(names.get(e, e), e, int(children.get(e, 0)), *held.get(e, (0, 0)),
                           late_reviews.get(e, 0), late_write_ups.get(e, 0)) for e in emails),
                  key=lambda line: line.name.lower())
