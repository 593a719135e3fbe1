"""A person's changes to a recorded return: confirm who sent it, or undo it (issue 16 §3).

Confirming says the return flagged for its sender (an address not the participant's) is theirs.
Undoing removes a return recorded in error (the wrong code keyed, the wrong child's paper): the
form counts as not back again, and the reminders its return called off that are still ahead are
planned again. Both are audited with the person and, for an undo, the values it removed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.mailout.plan import REMINDER_KIND
from workers.returns.service import dispatch_by_code, reminder_prefix
from workers.store import audit
from workers.store.models import AuditEvent, Dispatch, Participant, Return, Review


@dataclass(frozen=True)
class ReturnFacts:
    """What a person checks a return against: the paper, or the email in the mailbox."""

    code: str
    review_ref: str
    child_initials: str
    participant_ref: str
    role: str
    received_on: dt.date | None  # None: not recorded yet
    channel: str
    sender: str
    needs_confirmation: bool


def facts(session: Session, code: str) -> tuple[Dispatch, Return | None, ReturnFacts]:
    letter = dispatch_by_code(session, code)
    review = session.get(Review, letter.review_id)
    person = session.get(Participant, letter.participant_id) if letter.participant_id else None
    if review is None or person is None:
        raise RefusedError(f"dispatch {letter.id} is not a form sent to a review's participant")
    row = session.scalars(select(Return).where(Return.dispatch_id == letter.id)).one_or_none()
    return letter, row, ReturnFacts(
        letter.reference_code or code, review.ref, review.child.initials, person.ref, person.role,
        row.received_on if row else None, row.channel if row else "",
        row.sender or "" if row else "", bool(row and row.needs_confirmation))


def _recorded(session: Session, code: str) -> tuple[Dispatch, Return]:
    letter, row, _ = facts(session, code)
    if row is None:
        raise NotFoundError(f"the form {letter.reference_code} is not recorded as returned")
    return letter, row


def to_confirm(session: Session) -> list[ReturnFacts]:
    """Returns filed but waiting for a person to confirm their sender, oldest first."""
    codes = session.scalars(select(Dispatch.reference_code).join(
        Return, Return.dispatch_id == Dispatch.id).where(Return.needs_confirmation)
        .order_by(Return.received_on, Return.id)).all()
    return [facts(session, code)[2] for code in codes if code]


def confirm_sender(session: Session, code: str, *, now: dt.datetime, actor: str) -> ReturnFacts:
    """The flagged return is the participant's (the caller commits)."""
    letter, row = _recorded(session, code)
    if not row.needs_confirmation:
        raise RefusedError(f"the return of form {letter.reference_code} needs no confirmation "
                           "(it came from the participant, or was recorded by a person)")
    row.needs_confirmation, row.confirmed_by, row.confirmed_at = False, actor, now
    audit.record(session, "return.sender_confirmed", "dispatch", letter.id, actor=actor,
                 return_id=row.id, code=letter.reference_code)
    return facts(session, code)[2]


@dataclass(frozen=True)
class Undone:
    facts: ReturnFacts
    reminders: int  # reminders planned again
    file_path: str | None  # the kept file, left with the case for a person to look at


def undo(session: Session, code: str, *, reason: str, now: dt.datetime, actor: str) -> Undone:
    """Remove a return recorded in error (the caller commits)."""
    if not reason.strip():
        raise BadInputError("say why the return is undone (--reason TEXT), e.g. 'wrong code "
                            "keyed'; it is kept in the audit trail")
    letter, row = _recorded(session, code)
    before = facts(session, code)[2]
    again = _reminders_called_off(session, letter, now)
    for reminder in again:
        reminder.state, reminder.updated_at = "pending", now
        audit.record(session, "dispatch.replanned", "dispatch", reminder.id, actor=actor,
                     reason="its form's return was undone")
    audit.record(session, "return.undone", "dispatch", letter.id, actor=actor,
                 return_id=row.id, code=letter.reference_code, reason=reason.strip()[:200],
                 received_on=row.received_on, channel=row.channel,
                 needs_confirmation=row.needs_confirmation, reminders_replanned=len(again))
    session.delete(row)
    session.flush()
    return Undone(before, len(again), row.file_path)


def _reminders_called_off(session: Session, letter: Dispatch, now: dt.datetime
                          ) -> list[Dispatch]:
    ahead = list(session.scalars(select(Dispatch).where(
        Dispatch.key.startswith(reminder_prefix(letter.key), autoescape=True),
        Dispatch.kind == REMINDER_KIND, Dispatch.state == "cancelled", Dispatch.due_at > now)))
    if not ahead:
        return []
    called_off = {e.subject_id for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == "dispatch.cancelled", AuditEvent.subject_type == "dispatch",
        AuditEvent.subject_id.in_([r.id for r in ahead])))
        if e.details.get("reason") == "form_returned"}
    return [r for r in ahead if r.id in called_off]
