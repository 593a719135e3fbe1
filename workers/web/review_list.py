"""The upcoming reviews list at a council's scale: every planned review, a page at a time, with
the total, sortable and filtered in SQL (IRO, team, mail-out state, mail-out due or late,
consultation forms not yet back, the meeting's date range, a search by child or review
reference).

The meeting day is the meeting's London date, else the statutory date (``review_on``): in SQL,
``coalesce(scheduled_at, due_on)``. "Mail-out due" means the invitations' day
(``mailout.invitations`` in rules.yaml, working days before the meeting) has come and nothing
has gone; since that day only moves forward with the meeting, it is one bound on the meeting
day, found in Python from the calendar and handed to the query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from workers.core.clock import london_day
from workers.mailout.plan import INVITATION_KIND
from workers.store.models import Child, Dispatch, Review
from workers.web.listing import Listing, Page, contains, read_listing
from workers.web.queries import Progress, ReviewLine, form_back, form_sent, progress_by_review

if TYPE_CHECKING:
    from workers.config.directory import Directory
    from workers.config.rules import Rules
    from workers.core.workcalendar import WorkingCalendar

SORTS = ("meeting", "due", "review", "child", "iro")
STATES = {"not_started": "Not started", "started": "Started", "failed": "With failed letters"}
MAILOUT = {"due": "Mail-out due (its day has come)", "late": "Mail-out late (its day has passed)"}
FORMS = {"outstanding": "Some not back yet", "back": "Every form sent is back"}
LOOKAHEAD_DAYS = 370  # no mail-out offset reaches further than a year before the meeting


def read(params: Mapping[str, str], directory: Directory) -> Listing:
    return read_listing(
        params, sorts=SORTS, default_sort="meeting",
        choices={"iro": [p.email.lower() for p in directory.iros],
                 "team": [t.key for t in directory.teams],
                 "state": list(STATES), "mailout": list(MAILOUT), "forms": list(FORMS)},
        dates=("from", "to"), texts=("q",))


def last_meeting_with_mailout(rules: Rules, calendar: WorkingCalendar, today: dt.date, *,
                              strictly_before: bool) -> dt.date:
    """The latest meeting day whose invitations' day is on or before ``today`` (before it,
    if ``strictly_before``): meetings up to it have their mail-out due (or late)."""
    from workers.core.planning import mailout_day

    def goes_on(meeting: dt.date) -> dt.date:
        return mailout_day("invitations", rules.mailout.invitations, calendar,
                           review_on=meeting)

    def fits(meeting: dt.date) -> bool:
        day = goes_on(meeting)
        return day < today if strictly_before else day <= today

    low, high = today - dt.timedelta(days=LOOKAHEAD_DAYS), today + dt.timedelta(
        days=LOOKAHEAD_DAYS)
    while low < high:  # the greatest meeting that fits (the mail-out day never moves back)
        middle = low + (high - low + dt.timedelta(days=1)) / 2
        if fits(middle):
            low = middle
        else:
            high = middle - dt.timedelta(days=1)
    return low


def mailout_bounds(rules: Rules, calendar: WorkingCalendar,
                   today: dt.date) -> tuple[dt.date, dt.date]:
    """The last meeting days whose mail-out is due (its day today or before) and late."""
    return (last_meeting_with_mailout(rules, calendar, today, strictly_before=False),
            last_meeting_with_mailout(rules, calendar, today, strictly_before=True))


def _meeting(session: Session) -> Any:
    """The meeting's moment, else the statutory day, as one sortable SQL expression."""
    if session.get_bind().dialect.name == "postgresql":
        return func.coalesce(Review.scheduled_at, cast(Review.due_on, DateTime(timezone=True)))
    return func.coalesce(Review.scheduled_at, Review.due_on)  # SQLite: ISO text sorts in order


def _on_or_after(day: dt.date) -> Any:
    return or_(Review.scheduled_at >= london_day(day)[0],
               and_(Review.scheduled_at.is_(None), Review.due_on >= day))


def _on_or_before(day: dt.date) -> Any:
    return or_(Review.scheduled_at < london_day(day)[1],
               and_(Review.scheduled_at.is_(None), Review.due_on <= day))


def _invitations() -> Any:
    return select(Dispatch.id).where(Dispatch.review_id == Review.id,
                                     Dispatch.kind == INVITATION_KIND)


def conditions(listing: Listing, *, mailout_bounds: tuple[dt.date, dt.date] | None) -> list[Any]:
    """The WHERE of the list (planned reviews, and each filter asked for)."""
    where: list[Any] = [Review.status == "planned"]
    if listing.get("iro"):
        where.append(func.lower(Review.iro_email) == listing.get("iro"))
    if listing.get("team"):
        where.append(Child.team == listing.get("team"))
    started = exists(_invitations())
    state = listing.get("state")
    if state == "not_started":
        where.append(~started)
    elif state == "started":
        where.append(started)
    elif state == "failed":
        where.append(exists(_invitations().where(Dispatch.state.in_(("failed", "bounced")))))
    first, last = listing.day("from"), listing.day("to")
    if first:
        where.append(_on_or_after(first))
    if last:
        where.append(_on_or_before(last))
    if listing.get("mailout") and mailout_bounds is not None:
        due_up_to, late_up_to = mailout_bounds
        where.append(~started)
        where.append(_on_or_before(late_up_to if listing.get("mailout") == "late"
                                   else due_up_to))
    if listing.get("forms"):
        out = exists(select(Dispatch.id).where(Dispatch.review_id == Review.id, form_sent(),
                                               ~form_back()))
        if listing.get("forms") == "outstanding":
            where.append(out)
        else:  # some went out, and every one of them came back
            where.append(and_(exists(select(Dispatch.id).where(
                Dispatch.review_id == Review.id, form_sent())), ~out))
    text = listing.get("q")
    if text:
        where.append(contains(text, Review.ref, Child.ref))
    return where


def _order(session: Session, listing: Listing) -> list[Any]:
    key = {"meeting": _meeting(session), "due": Review.due_on, "review": Review.ref,
           "child": Child.ref, "iro": func.lower(Review.iro_email)}[listing.sort]
    return [key.desc() if listing.descending else key.asc(),
            Review.id.desc() if listing.descending else Review.id.asc()]


def matching_refs(session: Session, listing: Listing, *,
                  mailout_bounds: tuple[dt.date, dt.date] | None = None,
                  among: list[str] | None = None) -> list[str]:
    """Every review ref the listing's filters match, in its order (all pages); with ``among``,
    only those of them (a selection checked against the filters: nothing else gets through)."""
    where = conditions(listing, mailout_bounds=mailout_bounds)
    if among is not None:
        where.append(Review.ref.in_(among))
    return list(session.scalars(
        select(Review.ref).join(Child, Child.id == Review.child_id).where(*where)
        .order_by(*_order(session, listing))))


def upcoming_page(session: Session, listing: Listing, *,
                  mailout_bounds: tuple[dt.date, dt.date] | None = None) -> Page[ReviewLine]:
    """One page of planned reviews with the total that match the listing's filters."""
    where = conditions(listing, mailout_bounds=mailout_bounds)
    total = session.scalar(select(func.count()).select_from(Review)
                           .join(Child, Child.id == Review.child_id).where(*where)) or 0
    rows = list(session.execute(
        select(Review, Child).join(Child, Child.id == Review.child_id).where(*where)
        .order_by(*_order(session, listing)).offset(listing.offset).limit(listing.size)))
    return Page(_lines(session, rows), total, listing)


def _lines(session: Session, rows: list[Any]) -> list[ReviewLine]:
    from workers.mailout.documents import review_on
    from workers.store.deadline_queries import has_meeting

    progress = progress_by_review(session, [r.id for r, _ in rows])
    return [ReviewLine(r.ref, c.ref, c.initials, r.iro_email, review_on(r), r.due_on, r.status,
                       progress.get(r.id, Progress()), waiting=not has_meeting(r))
            for r, c in rows]


def line_of(session: Session, ref: str) -> ReviewLine | None:
    """One review's line as the lists draw it (None: no such review)."""
    rows = list(session.execute(select(Review, Child).join(Child, Child.id == Review.child_id)
                                .where(Review.ref == ref)))
    return _lines(session, rows)[0] if rows else None
