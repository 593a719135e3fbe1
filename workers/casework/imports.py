"""What an import changed in casework, done in the import's own transaction: contacts corrected
re-plan the letters that have not gone (workers.casework.replan); participants left out of a
planned review the file lists are withdrawn (workers.casework.withdraw). Returns one line per
participant for the import to print ("P-5033 removed: 2 letters cancelled"): references only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from workers.casework.replan import replan_contact
from workers.casework.withdraw import withdraw
from workers.importer.upsert import ImportSummary


def after_import(session: Session, summary: ImportSummary, *, allowed_domains: Sequence[str],
                 today: dt.date, now: dt.datetime, actor: str) -> list[str]:
    lines: list[str] = []
    for person in summary.missing:
        done = withdraw(session, person, reason="left out of the import", today=today, now=now,
                        actor=actor)
        lines.append(f"review {person.review.ref}: {done}")
    for person, previous in summary.contact_changes:
        if person.withdrawn_on is not None:
            continue
        replanned = replan_contact(session, person, previous, allowed_domains=allowed_domains,
                                   now=now, actor=actor)
        lines.append(f"review {person.review.ref}: {replanned}")
    session.flush()
    return lines
