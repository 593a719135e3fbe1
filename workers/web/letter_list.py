"""Every letter (not only the failed ones), overall or for one review, a page at a time from the
database: state, channel, the address it went to (``sent_to``), its dates.

A letter's day is when it went (``sent_at``), else when it is due (``due_at``): the date range
filters on that. The default order is the newest letter first (the primary key, so the first
page of 100,000 letters is an index walk, not a sort).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from workers.core.clock import london_day
from workers.store.models import Dispatch, Participant, Review
from workers.web.listing import Listing, Page, contains, read_listing
from workers.web.queries import TO_PRINT, shown_state

SORTS = ("letter", "day", "review", "state")
STATES = ("pending", TO_PRINT, "queued", "sending", "sent", "failed", "bounced", "cancelled")
CHANNELS = ("email", "post")


def read(params: Mapping[str, str]) -> Listing:
    return read_listing(params, sorts=SORTS, default_sort="letter",
                        choices={"state": STATES, "channel": CHANNELS},
                        dates=("from", "to"), texts=("q", "review"))


@dataclass(frozen=True)
class Letter:
    dispatch_id: int
    kind: str
    review_ref: str | None
    participant_ref: str | None
    role: str | None
    channel: str
    state: str
    sent_to: str | None
    due_at: dt.datetime
    sent_at: dt.datetime | None
    attempts: int
    last_error: str | None

    @property
    def what(self) -> str:
        return self.kind.removeprefix("mailout_").replace("_", " ")


def _state(state: str) -> Any:
    """A shown state in SQL: "to print" is a postal letter still pending or queued."""
    if state == TO_PRINT:
        return and_(Dispatch.channel == "post", Dispatch.state.in_(("pending", "queued")))
    if state in ("pending", "queued"):
        return and_(Dispatch.state == state, Dispatch.channel != "post")
    return Dispatch.state == state


def _day_from(day: dt.date) -> Any:
    moment = london_day(day)[0]
    return or_(Dispatch.sent_at >= moment, and_(Dispatch.sent_at.is_(None),
                                                Dispatch.due_at >= moment))


def _day_to(day: dt.date) -> Any:
    moment = london_day(day)[1]
    return or_(Dispatch.sent_at < moment, and_(Dispatch.sent_at.is_(None),
                                               Dispatch.due_at < moment))


def conditions(listing: Listing) -> list[Any]:
    where: list[Any] = []
    if listing.get("state"):
        where.append(_state(listing.get("state")))
    if listing.get("channel"):
        where.append(Dispatch.channel == listing.get("channel"))
    first, last = listing.day("from"), listing.day("to")
    if first:
        where.append(_day_from(first))
    if last:
        where.append(_day_to(last))
    if listing.get("review"):  # one review's letters (its page links here)
        where.append(Review.ref == listing.get("review"))
    if listing.get("q"):
        where.append(contains(listing.get("q"), Review.ref, Participant.ref,
                              Dispatch.reference_code))
    return where


def letters_page(session: Session, listing: Listing) -> Page[Letter]:
    """One page of letters with the total that match the listing's filters."""
    where = conditions(listing)
    joined = (select(Dispatch, Review.ref, Participant.ref, Participant.role)
              .outerjoin(Review, Review.id == Dispatch.review_id)
              .outerjoin(Participant, Participant.id == Dispatch.participant_id))
    count = select(func.count()).select_from(Dispatch)
    if listing.get("review") or listing.get("q"):  # only these need the joins to count
        count = count.outerjoin(Review, Review.id == Dispatch.review_id)
        if listing.get("q"):
            count = count.outerjoin(Participant, Participant.id == Dispatch.participant_id)
    total = session.scalar(count.where(*where)) or 0
    key: Any = {"letter": Dispatch.id, "day": func.coalesce(Dispatch.sent_at, Dispatch.due_at),
                "review": Review.ref, "state": Dispatch.state}[listing.sort]
    order = ([key.desc(), Dispatch.id.desc()] if listing.descending
             else [key.asc(), Dispatch.id.asc()])
    rows = session.execute(joined.where(*where).order_by(*order)
                           .offset(listing.offset).limit(listing.size))
    return Page([Letter(d.id, d.kind, rref, pref, role, d.channel,
                        shown_state(d.channel, d.state), d.sent_to, d.due_at, d.sent_at,
                        d.attempts, d.last_error) for d, rref, pref, role in rows],
                total, listing)
