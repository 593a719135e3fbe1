"""Recording quality assurance: a chairing observation of an IRO, a record audited against the
standards. The caller commits; each record and its audit event go in one transaction.

Notes are free text for the IRO manager's own use: kept with the row, never in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from workers.config.directory import Directory
from workers.errors import BadInputError, RefusedError
from workers.qa.standards import AuditConfig
from workers.reviews.records import review_by_ref
from workers.store.audit import record as audit
from workers.store.qa_models import ChairingObservation, RecordAudit

NOTE_MAX = 4000


def _checked(note: str, on: dt.date, today: dt.date) -> str:
    if len(note) > NOTE_MAX:
        raise BadInputError(f"--note: at most {NOTE_MAX} characters, got {len(note)}")
    if on > today:
        raise BadInputError(f"--on {on.isoformat()} is after today ({today.isoformat()})")
    return note.strip()


def record_observation(session: Session, directory: Directory, *, iro_email: str,
                       on: dt.date, today: dt.date, by: str, note: str = "",
                       review_ref: str | None = None) -> ChairingObservation:
    """The IRO manager observed ``iro_email`` chairing (optionally the review ``review_ref``)."""
    email = iro_email.strip().lower()
    if directory.iro(email) is None:
        known = ", ".join(p.email for p in directory.iros)
        raise BadInputError(f"{iro_email}: not an IRO in directory.yaml (known: {known})")
    if not by.strip():
        raise BadInputError("--by: say who observed (an email)")
    clean = _checked(note, on, today)
    review_id = None
    if review_ref:
        review = review_by_ref(session, review_ref.strip())
        if review.iro_email.strip().lower() != email:
            raise RefusedError(f"{review.ref} was chaired by another IRO, not {email}")
        if review.held_on != on:
            held = review.held_on.isoformat() if review.held_on else "not yet held"
            raise BadInputError(f"{review.ref} was held on {held}, not {on.isoformat()}")
        review_id = review.id
    row = ChairingObservation(iro_email=email, observed_on=on, review_id=review_id, note=clean,
                              by=by.strip())
    session.add(row)
    session.flush()
    audit(session, "qa.observed", "iro", None, actor=by.strip(), observation=row.id,
          iro=email, review=review_id, on=on)
    return row


def record_audit(session: Session, standards: AuditConfig, *, review_ref: str,
                 ratings: Mapping[str, str], on: dt.date, today: dt.date, by: str,
                 note: str = "") -> RecordAudit:
    """The record of ``review_ref`` audited: each standard given rated met, partly or not_met."""
    if not by.strip():
        raise BadInputError("--by: say who audited (an email)")
    clean = _checked(note, on, today)
    checked = standards.check_ratings(ratings)
    review = review_by_ref(session, review_ref.strip())
    if review.held_on is None:
        raise RefusedError(f"{review.ref} has not been held: there is no record to audit")
    if on < review.held_on:
        raise BadInputError(f"--on {on.isoformat()} is before {review.ref} was held "
                            f"({review.held_on.isoformat()})")
    titles = standards.titles()
    row = RecordAudit(review_id=review.id, iro_email=review.iro_email.strip().lower(),
                      audited_on=on, ratings=checked, titles={k: titles[k] for k in checked},
                      note=clean, by=by.strip())
    session.add(row)
    session.flush()
    audit(session, "qa.audited", "review", review.id, actor=by.strip(), audit=row.id,
          review_ref=review.ref, ratings=checked, on=on)
    return row
