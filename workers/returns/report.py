"""Who was sent what, reminded, and returned; return rates by review and by role.

Rows carry references, roles and dates only. A form counts as sent once its letter was sent
(email) or printed (post); the rate is returned / sent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.core.clock import LONDON
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.reviews import records
from workers.store.models import Dispatch, Participant, Return, Review


@dataclass(frozen=True)
class ParticipantRow:
    participant_ref: str
    role: str
    channel: str
    form_code: str
    state: str
    sent_at: dt.datetime | None
    reminded: tuple[dt.date, ...]
    returned_on: dt.date | None
    returned_by: str  # email | post | ""
    # an emailed return from an address not the participant's, waiting for a person (issue 16)
    needs_confirmation: bool = False


@dataclass(frozen=True)
class RoleRate:
    role: str
    sent: int
    returned: int

    @property
    def rate(self) -> float | None:
        return self.returned / self.sent if self.sent else None


def review_returns(session: Session, review_ref: str) -> tuple[list[ParticipantRow], RoleRate]:
    review = records.review_by_ref(session, review_ref)
    rows = session.execute(
        select(Dispatch, Participant, Return)
        .join(Participant, Dispatch.participant_id == Participant.id)
        .outerjoin(Return, Return.dispatch_id == Dispatch.id)
        .where(Dispatch.review_id == review.id, Dispatch.kind.in_((INVITATION_KIND, REMINDER_KIND)))
        .order_by(Participant.id, Dispatch.id)
    ).all()
    reminded: dict[int, list[dt.date]] = defaultdict(list)
    for d, person, _ in rows:
        if d.kind == REMINDER_KIND and d.state == "sent" and d.sent_at:
            reminded[person.id].append(d.sent_at.astimezone(LONDON).date())
    out = [
        ParticipantRow(person.ref, person.role, d.channel, d.reference_code or "", d.state,
                       d.sent_at, tuple(reminded[person.id]),
                       ret.received_on if ret else None, ret.channel if ret else "",
                       bool(ret and ret.needs_confirmation))
        for d, person, ret in rows if d.kind == INVITATION_KIND
    ]
    sent = [r for r in out if r.form_code and r.state == "sent"]
    return out, RoleRate("all", len(sent), sum(1 for r in sent if r.returned_on))


def summary(session: Session, start: dt.date, end: dt.date) -> list[RoleRate]:
    """Return rates by role for reviews meeting between ``start`` and ``end`` (inclusive)."""
    from workers.mailout.documents import review_on

    rows = session.execute(
        select(Dispatch, Participant.role, Review, Return.id)
        .join(Participant, Dispatch.participant_id == Participant.id)
        .join(Review, Dispatch.review_id == Review.id)
        .outerjoin(Return, Return.dispatch_id == Dispatch.id)
        .where(Dispatch.kind == INVITATION_KIND, Dispatch.reference_code.is_not(None),
               Dispatch.state == "sent")
    ).all()
    sent: dict[str, int] = defaultdict(int)
    back: dict[str, int] = defaultdict(int)
    for _, role, review, returned in rows:
        if not start <= review_on(review) <= end:
            continue
        sent[role] += 1
        back[role] += returned is not None
    return [RoleRate(role, sent[role], back[role]) for role in sorted(sent)]
