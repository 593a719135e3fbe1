"""A participant withdrawn from the case (removed by hand, or left out of the next import): their
letters and reminders that have not gone are cancelled, and no mail-out plans them again
(workers.mailout.service reads only participants not withdrawn). Rows stay: letters already sent
point at them. A letter already in a built but unposted print batch is cancelled too (so
`mark-printed` does not record it as sent) and named, for its pages to be taken out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import RefusedError
from workers.store import audit
from workers.store.models import Dispatch, Participant, PrintBatch

STOPPABLE = ("pending", "queued", "failed")  # failed: never resent to someone withdrawn


@dataclass
class Withdrawn:
    participant_id: int
    participant_ref: str
    cancelled: list[int] = field(default_factory=list)
    in_print_batch: list[int] = field(default_factory=list)  # printed: take the pages out

    def __str__(self) -> str:
        text = f"{self.participant_ref} removed: {len(self.cancelled)} letters cancelled"
        if self.in_print_batch:
            text += (f" (take dispatches {', '.join(map(str, self.in_print_batch))} out of the "
                     "print batch before posting)")
        return text


def withdraw(session: Session, person: Participant, *, reason: str, today: dt.date,
             now: dt.datetime, actor: str) -> Withdrawn:
    """Mark ``person`` withdrawn and cancel what has not gone to them (the caller commits)."""
    if person.withdrawn_on is not None:
        raise RefusedError(f"participant {person.ref} was already withdrawn on "
                           f"{person.withdrawn_on.isoformat()}")
    person.withdrawn_on = today
    done = Withdrawn(person.id, person.ref)
    rows = session.scalars(select(Dispatch).where(
        Dispatch.participant_id == person.id, Dispatch.state.in_(STOPPABLE)).order_by(Dispatch.id))
    for row in rows:
        row.state, row.claimed_at, row.updated_at = "cancelled", None, now
        audit.record(session, "dispatch.cancelled", "dispatch", row.id, actor=actor,
                     reason="participant withdrawn")
        done.cancelled.append(row.id)
        batch = session.get(PrintBatch, row.print_batch_id) if row.print_batch_id else None
        if batch is not None and batch.printed_at is None:
            done.in_print_batch.append(row.id)
    audit.record(session, "participant.withdrawn", "participant", person.id, actor=actor,
                 participant_ref=person.ref, reason=reason[:200], cancelled=done.cancelled,
                 in_print_batch=done.in_print_batch)
    return done
