"""What an import changed in casework, done in the import's own transaction: contacts corrected
re-plan the letters that have not gone (workers.casework.replan); participants left out of a
planned review the file lists are withdrawn (workers.casework.withdraw). Returns one line per
participant for the import to print ("P-5033 removed: 2 letters cancelled"): references only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from workers.casework.replan import replan_contact
from workers.casework.withdraw import withdraw
from workers.core.planning import mailout_dates
from workers.importer.upsert import ImportSummary
from workers.mailout.documents import MailoutConfig, review_on
from workers.reviews.held import mailout_key
from workers.store import keyed
from workers.store.models import Review


def after_import(session: Session, summary: ImportSummary, cfg: MailoutConfig, *,
                 today: dt.date, now: dt.datetime, actor: str) -> list[str]:
    allowed_domains = cfg.allowed_domains
    lines = [_adopted(session, cfg, review, old, today) for review, old in summary.adopted]
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


def _adopted(session: Session, cfg: MailoutConfig, review: Review, old: str,
             today: dt.date) -> str:
    """The import brought the review `iro review held` planned: its invitation day follows the
    meeting the case system booked (``review_on``), as `iro review move` would move it."""
    line = (f"review {review.ref}: the review `iro review held` planned as {old}; kept as one "
            f"review, under the case system's reference")
    deadline = keyed.deadline_by_key(session, mailout_key(review.ref))
    if deadline is not None and deadline.met_on is None and review.scheduled_at is not None:
        dates = mailout_dates(cfg.rules.mailout, cfg.calendar, review_on=review_on(review))
        deadline.due_on = max(dates.invitations_on, today)
        line += f"; invitations from {deadline.due_on.isoformat()}"
    return line
