"""Who is due a chairing observation (annual report §9.2: each IRO at least once a year), and
the latest record audits: what the IRO manager's quality page shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.store.models import Child, Review
from workers.store.qa_models import ChairingObservation, RecordAudit

RECENT_AUDITS = 25  # the latest; the year's counts are in the annual report


@dataclass(frozen=True)
class ObservationDue:
    name: str
    email: str
    last_on: dt.date | None
    due_on: dt.date | None  # None: never observed, due now

    def is_due(self, today: dt.date) -> bool:
        return self.due_on is None or self.due_on <= today


def next_due(last_on: dt.date | None, months: int) -> dt.date | None:
    """The day an IRO last observed on ``last_on`` is due again: ``months`` later."""
    return None if last_on is None else last_on + relativedelta(months=months)


def observations(session: Session, iro_names: Mapping[str, str],
                 months: int) -> list[ObservationDue]:
    """Every IRO in the directory with their latest observation, those due first (never observed,
    then the longest ago), then by name."""
    latest = dict(session.execute(
        select(ChairingObservation.iro_email, func.max(ChairingObservation.observed_on))
        .group_by(ChairingObservation.iro_email)).all())
    lines = [ObservationDue(name, email, latest.get(email.lower()),
                            next_due(latest.get(email.lower()), months))
             for email, name in iro_names.items()]
    return sorted(lines, key=lambda o: (o.due_on or dt.date.min, o.name.lower()))


@dataclass(frozen=True)
class AuditLine:
    id: int
    review_ref: str
    child_ref: str
    initials: str
    iro_email: str
    audited_on: dt.date
    by: str
    met: int
    partly: int
    not_met: int


def recent_audits(session: Session, limit: int = RECENT_AUDITS) -> list[AuditLine]:
    """The latest audits first; children by reference and initials only."""
    rows = session.execute(
        select(RecordAudit, Review.ref, Child)
        .join(Review, Review.id == RecordAudit.review_id)
        .join(Child, Child.id == Review.child_id)
        .order_by(RecordAudit.audited_on.desc(), RecordAudit.id.desc()).limit(limit))
    out = []
    for audit, review_ref, child in rows:
        ratings = list(audit.ratings.values())
        out.append(AuditLine(audit.id, review_ref, child.ref, child.initials, audit.iro_email,
                             audit.audited_on, audit.by, ratings.count("met"),
                             ratings.count("partly"), ratings.count("not_met")))
    return out
