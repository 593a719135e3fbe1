"""A person corrects a participant's contact, or withdraws them, by hand (`iro participants`).

The correction is checked first by the mail-out's preflight rule for the channel it leaves the
person on, and refused whole (nothing changed) if it fails; then it is applied to this
participant on every planned review of the child (the same ``participant_ref``), and their open
letters follow it (workers.casework.replan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.casework.contact import recipient_for, refuse_contact
from workers.casework.replan import Replanned, replan_contact
from workers.casework.withdraw import Withdrawn, withdraw
from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.mailout.plan import PlannedLetter
from workers.mailout.preflight import check_recipient
from workers.reviews import records
from workers.store.models import Participant, Review

EDITABLE = ("email", "email_confirmed", "address", "postcode", "channel")


def participant_of(session: Session, review_ref: str, participant_ref: str) -> Participant:
    review = records.review_by_ref(session, review_ref)
    person = session.scalars(select(Participant).where(
        Participant.review_id == review.id, Participant.ref == participant_ref)).one_or_none()
    if person is None:
        raise NotFoundError(f"no participant {participant_ref!r} on review {review_ref}; check "
                            f"the references (iro returns {review_ref})")
    return person


def _same_person(session: Session, person: Participant) -> list[Participant]:
    """This participant on each planned review of the child (this review first)."""
    others = session.scalars(select(Participant).join(Review).where(
        Review.child_id == person.review.child_id, Review.status == "planned",
        Participant.ref == person.ref, Participant.id != person.id,
        Participant.withdrawn_on.is_(None)).order_by(Participant.id))
    return [person, *others]


def correct_contact(session: Session, review_ref: str, participant_ref: str,
                    changes: Mapping[str, object], *, allowed_domains: Sequence[str],
                    now: dt.datetime, actor: str) -> list[Replanned]:
    """Apply ``changes`` (fields of EDITABLE) and re-plan open letters; the caller commits."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown or not changes:
        raise BadInputError(f"nothing to correct: give one of {', '.join(EDITABLE)}"
                            + (f" (not {', '.join(unknown)})" if unknown else ""))
    if changes.get("channel", "email") not in ("email", "post"):
        raise BadInputError(f"--channel: expected email or post, got {changes['channel']!r}")
    person = participant_of(session, review_ref, participant_ref)
    if person.withdrawn_on is not None:
        raise RefusedError(f"participant {person.ref} was withdrawn on "
                           f"{person.withdrawn_on.isoformat()}; nothing is sent to them")
    done = []
    for row in _same_person(session, person):
        previous = {k: getattr(row, k) for k, v in changes.items() if getattr(row, k) != v}
        for key in previous:
            setattr(row, key, changes[key])
        letter = PlannedLetter(f"{review_ref}/correction", row.id, row.ref, row.role,
                               row.channel, recipient_for(row, row.channel), None)
        problems = check_recipient(letter, row, row.review_id, allowed_domains)
        if problems:  # the caller does not commit: nothing was changed
            raise refuse_contact("the correction", row, problems)
        if previous:
            done.append(replan_contact(session, row, previous, allowed_domains=allowed_domains,
                                       now=now, actor=actor))
    session.flush()
    return done


def withdraw_participant(session: Session, review_ref: str, participant_ref: str, *,
                         reason: str, today: dt.date, now: dt.datetime,
                         actor: str) -> list[Withdrawn]:
    """Withdraw the participant from this and every later planned review of the child."""
    if not reason.strip():
        raise BadInputError("--reason: say why (kept in the audit; no names or addresses)")
    person = participant_of(session, review_ref, participant_ref)
    if person.withdrawn_on is not None:
        raise RefusedError(f"participant {person.ref} was already withdrawn on "
                           f"{person.withdrawn_on.isoformat()}")
    return [withdraw(session, row, reason=" ".join(reason.split()), today=today, now=now,
                     actor=actor) for row in _same_person(session, person)]
