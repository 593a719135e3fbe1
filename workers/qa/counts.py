"""The annual report's quality assurance figures (§9.2-9.3): IROs observed chairing, and record
audits counted by standard and rating. Read-only; counts and standard titles, never a name."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from workers.store.qa_models import ChairingObservation, RecordAudit


@dataclass(frozen=True)
class StandardCount:
    key: str
    title: str
    met: int = 0
    partly: int = 0
    not_met: int = 0

    @property
    def audited(self) -> int:
        return self.met + self.partly + self.not_met


@dataclass(frozen=True)
class QaResults:
    observed: tuple[str, ...]  # IROs (emails, lower case) observed chairing in the period
    observations: int
    audits: int  # review records audited
    standards: tuple[StandardCount, ...]  # in the order first audited against


def qa_results(session: Session, start: dt.date, end: dt.date) -> QaResults | None:
    """The period's figures; None where the service has never recorded an observation or audit
    (a council not using `iro qa` gets no empty section)."""
    used = session.scalar(select(exists().where(ChairingObservation.id.isnot(None)))) or \
        session.scalar(select(exists().where(RecordAudit.id.isnot(None))))
    if not used:
        return None
    in_period = ChairingObservation.observed_on.between(start, end)
    observed = tuple(sorted(session.scalars(
        select(func.lower(ChairingObservation.iro_email)).where(in_period).distinct())))
    observations = session.scalar(select(func.count(ChairingObservation.id)).where(in_period)) or 0
    counts: dict[str, dict[str, int]] = {}
    titles: dict[str, str] = {}
    audits = 0
    # a year's audits are tens to hundreds of rows of a few keys: counted here, not in SQL,
    # because JSON keys are queried differently on SQLite and PostgreSQL
    for ratings, asked in session.execute(
            select(RecordAudit.ratings, RecordAudit.titles)
            .where(RecordAudit.audited_on.between(start, end))
            .order_by(RecordAudit.audited_on, RecordAudit.id)):
        audits += 1
        for key, rating in ratings.items():
            titles[key] = str(asked.get(key, key))  # the latest wording it was audited under
            tally = counts.setdefault(key, {})
            tally[rating] = tally.get(rating, 0) + 1
    standards = tuple(StandardCount(key, titles[key], c.get("met", 0), c.get("partly", 0),
                                    c.get("not_met", 0)) for key, c in counts.items())
    return QaResults(observed, observations, audits, standards)
