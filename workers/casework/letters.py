"""Cancel one letter, or resend a failed or bounced one to the participant's current contact.

Cancelling a letter that has not gone (pending, queued, failed or bounced) makes it
``cancelled``; a worker holding its id finds nothing to claim (workers.queue.dispatching). An
invitation takes its pending reminders with it. A letter already sent, or being sent, cannot be
called back.

Resending makes a new dispatch (``<key>/resend-N``) to the contact the case record holds now, by
its channel or ``post``, after the mail-out's preflight rule; the old row is kept, with the
address it went to (``sent_to``), and marked ``cancelled`` so it leaves the failed list and
`iro dispatches retry --failed` cannot send it to the old address again. The form keeps its code
(``params.form_code``): a return still files against the original letter, and its reminders
follow the new contact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.casework.contact import (
    again_key,
    contact_problems,
    recipient_for,
    refuse_contact,
)
from workers.casework.notices import CANCEL_KIND, CHANGE_KIND
from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.store import audit
from workers.store.models import AuditEvent, Dispatch, Participant, PrintBatch, Review

CANCELLABLE = ("pending", "queued", "failed", "bounced")
RESENDABLE = ("failed", "bounced")
OPEN = ("pending", "queued")  # not yet claimed by a worker or a print batch's posting
# what workers.mailout.printing prints
PRINTABLE_KINDS = (INVITATION_KIND, REMINDER_KIND, CHANGE_KIND, CANCEL_KIND)
MAX_REASON = 200  # workers.store.audit keeps codes and short text only


@dataclass(frozen=True)
class Cancelled:
    dispatch_id: int
    reminders: tuple[int, ...]  # the invitation's pending reminders, cancelled with it
    print_batch_id: int | None  # in a batch built but not yet posted: take it out by hand


def _get(session: Session, dispatch_id: int) -> Dispatch:
    d = session.get(Dispatch, dispatch_id)
    if d is None:
        raise NotFoundError(f"dispatch {dispatch_id} does not exist; see `iro dispatches`")
    return d


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise BadInputError("--reason: say why the letter is cancelled (it goes in the audit)")
    if len(text) > MAX_REASON:
        raise BadInputError(f"--reason: at most {MAX_REASON} characters, and no names or "
                            "addresses (it goes in the audit)")
    return text


def reminders_of(session: Session, letter: Dispatch, states: Sequence[str] = OPEN
                 ) -> list[Dispatch]:
    """The reminders chasing ``letter``'s form, in ``states``."""
    if letter.kind != INVITATION_KIND or letter.participant_id is None:
        return []
    rows = session.scalars(select(Dispatch).where(
        Dispatch.participant_id == letter.participant_id, Dispatch.kind == REMINDER_KIND,
        Dispatch.state.in_(states)).order_by(Dispatch.id))
    return [r for r in rows if r.params.get("letter_key") == letter.key]


def cancel(session: Session, dispatch_id: int, *, reason: str, now: dt.datetime,
           actor: str) -> Cancelled:
    """Cancel one letter (and an invitation's pending reminders); the caller commits."""
    why = _reason(reason)
    d = _get(session, dispatch_id)
    if d.state not in CANCELLABLE:
        what = {"sent": "it has already gone and cannot be called back",
                "sending": "a worker is sending it now; look again in a minute",
                "cancelled": "it is already cancelled"}.get(d.state, f"it is {d.state}")
        raise RefusedError(f"dispatch {dispatch_id} cannot be cancelled: {what}")
    previous = d.state
    d.state, d.claimed_at, d.updated_at = "cancelled", None, now
    audit.record(session, "dispatch.cancelled", "dispatch", d.id, actor=actor, reason=why,
                 previous_state=previous, key=d.key)
    followers = reminders_of(session, d)
    for r in followers:
        r.state, r.claimed_at, r.updated_at = "cancelled", None, now
        audit.record(session, "dispatch.cancelled", "dispatch", r.id, actor=actor,
                     reason="its letter was cancelled", letter_id=d.id)
    batch = session.get(PrintBatch, d.print_batch_id) if d.print_batch_id else None
    unposted = batch.id if batch is not None and batch.printed_at is None else None
    return Cancelled(d.id, tuple(r.id for r in followers), unposted)


def resend(session: Session, dispatch_id: int, *, channel: str | None,
           allowed_domains: Sequence[str], now: dt.datetime, actor: str) -> Dispatch:
    """A new dispatch of a failed or bounced letter to the current contact; the caller commits.

    ``channel``: ``email`` or ``post``, default the participant's recorded channel. Raises
    PreflightError (nothing changed) when the current contact would not pass the mail-out's
    checks.
    """
    d = _get(session, dispatch_id)
    if d.state not in RESENDABLE:
        raise RefusedError(f"dispatch {dispatch_id} is {d.state}: only a failed or bounced "
                           "letter is resent (a pending one follows a corrected address by "
                           "itself; see `iro dispatches retry` for a stuck one)")
    person = session.get(Participant, d.participant_id) if d.participant_id else None
    if person is None:
        raise RefusedError(f"dispatch {dispatch_id} is not a letter to a participant; use "
                           "`iro dispatches retry` once its addressee is corrected")
    if person.withdrawn_on is not None:
        raise RefusedError(f"participant {person.ref} was withdrawn from the case on "
                           f"{person.withdrawn_on.isoformat()}; nothing is sent to them")
    review = session.get(Review, d.review_id) if d.review_id else None
    if review is not None and review.status == "cancelled":
        raise RefusedError(f"review {review.ref} is cancelled; its letters are not resent")
    how = channel or person.channel
    if how not in ("email", "post"):
        raise BadInputError(f"--by: expected email or post, got {how!r}")
    if how == "post" and d.kind not in PRINTABLE_KINDS:
        raise RefusedError(f"dispatch {dispatch_id} ({d.kind}) is not a letter the print batch "
                           "prints; resend it by email")
    problems = contact_problems(d, person, how, allowed_domains)
    if problems:
        raise refuse_contact(f"resending dispatch {dispatch_id} by {how}", person, problems)
    new = Dispatch(
        key=again_key(session, d.key, "resend"), kind=d.kind, channel=how, state="pending",
        review_id=d.review_id, participant_id=d.participant_id,
        recipient=recipient_for(person, how), due_at=now,
        params={**d.params, "form_code": d.reference_code or d.params.get("form_code"),
                "resent_from": d.id},
    )
    session.add(new)
    session.flush()
    previous = d.state
    d.state, d.updated_at = "cancelled", now
    audit.record(session, "dispatch.resent", "dispatch", new.id, actor=actor, resent_from=d.id,
                 previous_state=previous, old_channel=d.channel, channel=how,
                 went_before=d.sent_at is not None)
    audit.record(session, "dispatch.cancelled", "dispatch", d.id, actor=actor,
                 reason=f"resent as dispatch {new.id}", previous_state=previous)
    # its reminders chase the same form at the new contact, those the bounce called off too
    for r in [*reminders_of(session, d), *_called_off_by_bounce(session, d, now)]:
        r.state, r.channel, r.recipient, r.updated_at = ("pending", how,
                                                         recipient_for(person, how), now)
        audit.record(session, "dispatch.replanned", "dispatch", r.id, actor=actor,
                     reason="its letter was resent", channel=how)
    return new


def _called_off_by_bounce(session: Session, letter: Dispatch, now: dt.datetime
                          ) -> list[Dispatch]:
    """Reminders still ahead that workers.returns.service.record_bounce cancelled."""
    ahead = [r for r in reminders_of(session, letter, ("cancelled",)) if r.due_at > now]
    if not ahead:
        return []
    bounced = {e.subject_id for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == "dispatch.cancelled", AuditEvent.subject_type == "dispatch",
        AuditEvent.subject_id.in_([r.id for r in ahead]))) if e.details.get("reason") == "bounced"}
    return [r for r in ahead if r.id in bounced]
