"""A participant's contact corrected (email, postal address, channel): their letters that have not
gone follow it, after the mail-out's preflight rule (DESIGN.md §6: "a change to the case re-plans
what has not gone and tells those already written to").

* Same channel, new email: each open letter is re-addressed in place (the worker checks the
  row's address against the record at send time, so without this it refuses the letter).
* Same channel, new postal address: the print batch reads the address when it is built, so an
  open postal letter needs no change; one already in a built, unposted batch was printed with the
  old address and is named (take it out, resend it).
* Channel switched (post <-> email): each open letter is cancelled and planned again on the new
  channel as ``<key>/replan-N`` (a queued email copy then finds nothing to claim; a form keeps
  its code, on the original row, so returns still file against it).
* The new contact fails the preflight rule: each open letter becomes ``failed`` with what to
  correct, so it shows on the failed letters page rather than going to the old contact.

Letters that already went to the old contact are named (by dispatch id) in the audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.casework.contact import again_key, contact_problems, recipient_for
from workers.store import audit
from workers.store.models import Dispatch, Participant, PrintBatch

OPEN = ("pending", "queued")


@dataclass
class Replanned:
    participant_id: int
    participant_ref: str
    moved: list[int] = field(default_factory=list)  # re-addressed in place
    switched: list[tuple[int, int]] = field(default_factory=list)  # (cancelled, planned anew)
    held: list[int] = field(default_factory=list)  # failed: the new contact fails preflight
    in_print_batch: list[int] = field(default_factory=list)  # printed already with the old one
    went_before: list[int] = field(default_factory=list)  # sent to the old contact

    def __str__(self) -> str:
        parts = [f"{len(self.moved) + len(self.switched)} letters re-planned"]
        if self.switched:
            parts.append(f"{len(self.switched)} of them on the new channel")
        if self.held:
            parts.append(f"{len(self.held)} held: the new contact fails the checks (see "
                         "`iro dispatches --failed`)")
        if self.in_print_batch:
            parts.append(f"{len(self.in_print_batch)} already in a print batch with the old "
                         f"address: take out and resend dispatches "
                         f"{', '.join(map(str, self.in_print_batch))}")
        if self.went_before:
            parts.append(f"{len(self.went_before)} already went to the old contact")
        return f"{self.participant_ref} contact changed: " + "; ".join(parts)


def replan_contact(session: Session, person: Participant, previous: Mapping[str, object], *,
                   allowed_domains: Sequence[str], now: dt.datetime, actor: str) -> Replanned:
    """Re-plan ``person``'s open letters to the contact now on the record (the caller commits).

    ``previous``: the contact fields as they were before the correction (those that changed).
    """
    done = Replanned(person.id, person.ref)
    rows = list(session.scalars(select(Dispatch).where(
        Dispatch.participant_id == person.id).order_by(Dispatch.id)))
    for row in rows:
        if row.state == "sent" and _went_to_old(row, previous):
            done.went_before.append(row.id)
        if row.state not in OPEN:
            continue
        if row.print_batch_id is not None:
            batch = session.get(PrintBatch, row.print_batch_id)
            if batch is not None and batch.printed_at is None and (
                    "address" in previous or "postcode" in previous or "channel" in previous):
                done.in_print_batch.append(row.id)
            continue
        channel = person.channel
        problems = contact_problems(row, person, channel, allowed_domains)
        if problems:
            row.state, row.claimed_at, row.updated_at = "failed", None, now
            row.last_error = ("the contact was corrected and the new one fails the mail-out "
                              f"checks: {'; '.join(problems)}; correct the case record, then "
                              f"`iro dispatches resend {row.id}`")
            audit.record(session, "dispatch.failed", "dispatch", row.id, actor=actor,
                         reason="contact corrected: fails preflight")
            done.held.append(row.id)
        elif channel != row.channel:
            done.switched.append((row.id, _plan_again(session, row, person, now, actor).id))
        elif channel == "email" and row.recipient != recipient_for(person, channel):
            row.recipient, row.updated_at = recipient_for(person, channel), now
            audit.record(session, "dispatch.replanned", "dispatch", row.id, actor=actor,
                         reason="contact corrected", channel=channel)
            done.moved.append(row.id)
        elif channel == "post" and ("address" in previous or "postcode" in previous):
            done.moved.append(row.id)  # the batch prints the address on the record
    audit.record(session, "participant.contact_changed", "participant", person.id, actor=actor,
                 participant_ref=person.ref, fields=sorted(previous), moved=done.moved,
                 switched=[new for _, new in done.switched], held=done.held,
                 in_print_batch=done.in_print_batch, sent_before_change=done.went_before)
    return done


def _went_to_old(row: Dispatch, previous: Mapping[str, object]) -> bool:
    if row.channel == "email":
        return "email" in previous or "channel" in previous
    return "address" in previous or "postcode" in previous or "channel" in previous


def _plan_again(session: Session, row: Dispatch, person: Participant, now: dt.datetime,
                actor: str) -> Dispatch:
    channel = person.channel
    new = Dispatch(
        key=again_key(session, row.key, "replan"), kind=row.kind, channel=channel,
        state="pending", review_id=row.review_id, participant_id=row.participant_id,
        recipient=recipient_for(person, channel), due_at=row.due_at,
        params={**row.params, "form_code": row.reference_code or row.params.get("form_code"),
                "replanned_from": row.id},
    )
    session.add(new)
    row.state, row.claimed_at, row.updated_at = "cancelled", None, now
    session.flush()
    audit.record(session, "dispatch.cancelled", "dispatch", row.id, actor=actor,
                 reason=f"channel changed: planned again as dispatch {new.id}")
    audit.record(session, "dispatch.replanned", "dispatch", new.id, actor=actor,
                 replanned_from=row.id, channel=channel, old_channel=row.channel)
    return new
