"""Inbox messages left for a person, and the "dealt with" mark that takes one off the list.

The poll adds one row per message it cannot file (no code, several forms it cannot tell apart,
a return dated before its form went…) and leaves the message in the inbox. A person reads it
there, does what it needs (records the return by hand, answers the question) and marks it dealt
with, naming themselves; the list then shrinks. The list (web and CLI) filters by state, reason,
received day and a search, and sorts, all in SQL. Dates, the sender's domain and counts only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.core.clock import london_day
from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.returns.inbox import InboxMessage
from workers.store import audit
from workers.store.returns_models import UnmatchedMessage
from workers.store.search import contains

REASONS = {
    "no_code": "no form code in it",
    "several_codes": "several forms: the attachments cannot be told apart",
    "already_returned": "the form was already returned",
    "before_sent": "dated before its form was sent",
    "not_sent": "its form has not been sent yet",
    "bounce_unmatched": "a bounce for no letter we know",
}
SHOWS = {"waiting": "Not dealt with", "dealt": "Dealt with", "all": "All"}
SORTS = ("received", "reason", "domain")


def add(session: Session, message: InboxMessage, reason: str,
        codes: Sequence[str] = ()) -> None:
    """Record the message for a person (the caller commits); once per Message-ID."""
    row = UnmatchedMessage(
        message_id=message.message_id[:400], reason=reason, received_at=_utc(message.received_at),
        sent_at=_utc(message.sent_at), sender_domain=message.sender_domain[:100],
        attachments=len(message.attachments), codes=" ".join(codes)[:400])
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return  # listed by an earlier poll
    audit.record(session, "inbox.unmatched", "unmatched_message", row.id, reason=reason,
                 message_id=message.message_id[:200], received_at=message.received_at,
                 sent_at=message.sent_at, sender_domain=message.sender_domain[:100],
                 attachments=len(message.attachments), codes=list(codes))


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A plain UTC datetime (exchangelib's EWSDateTime refuses other time zones)."""
    return dt.datetime.fromtimestamp(moment.timestamp(), dt.UTC) if moment else None


@dataclass(frozen=True)
class Wanted:
    """Which messages a list shows: ``show`` one of SHOWS, ``reason`` one of REASONS' keys (or
    any), received on London days ``first`` to ``last`` (inclusive; either open), ``search``
    text in a form code quoted, the sender's domain or the Message-ID."""

    show: str = "waiting"
    reason: str = ""
    first: dt.date | None = None
    last: dt.date | None = None
    search: str = ""


def listed(session: Session, wanted: Wanted = Wanted(), *, sort: str = "received",
           descending: bool = False, offset: int = 0,
           limit: int = 50) -> tuple[list[UnmatchedMessage], int]:
    """A page of them and the total, filtered, sorted and paged in SQL (a busy mailbox leaves
    thousands over a year). The default is the longest waiting first; ties go by id, so pages
    never overlap."""
    where = _conditions(wanted)
    if sort not in SORTS:
        raise BadInputError(f"sort: expected one of {', '.join(SORTS)}, got {sort[:30]!r}")
    total = session.scalar(select(func.count()).select_from(UnmatchedMessage).where(*where)) or 0
    # by reason as the page words it, not by its key
    by_words = case({k: n for n, k in enumerate(sorted(REASONS, key=REASONS.__getitem__))},
                    value=UnmatchedMessage.reason, else_=len(REASONS))
    key: Any = {"received": UnmatchedMessage.received_at, "reason": by_words,
                "domain": UnmatchedMessage.sender_domain}[sort]
    # a message the server gave no time sorts as the latest, as PostgreSQL's index has it
    order = ([key.desc().nulls_first(), UnmatchedMessage.id.desc()] if descending
             else [key.asc().nulls_last(), UnmatchedMessage.id.asc()])
    rows = list(session.scalars(select(UnmatchedMessage).where(*where).order_by(*order)
                                .offset(offset).limit(limit)))
    return rows, total


def _conditions(wanted: Wanted) -> list[ColumnElement[bool]]:
    if wanted.show not in SHOWS:
        raise BadInputError(f"show: expected one of {', '.join(SHOWS)}, got {wanted.show[:30]!r}")
    if wanted.reason and wanted.reason not in REASONS:
        raise BadInputError(f"reason: expected one of {', '.join(REASONS)}, "
                            f"got {wanted.reason[:40]!r}")
    where: list[ColumnElement[bool]] = []
    if wanted.show == "waiting":
        where.append(UnmatchedMessage.dealt_with_at.is_(None))
    elif wanted.show == "dealt":
        where.append(UnmatchedMessage.dealt_with_at.is_not(None))
    if wanted.reason:
        where.append(UnmatchedMessage.reason == wanted.reason)
    if wanted.first:  # London days
        where.append(UnmatchedMessage.received_at >= london_day(wanted.first)[0])
    if wanted.last:
        where.append(UnmatchedMessage.received_at < london_day(wanted.last)[1])
    if wanted.search:
        where.append(contains(wanted.search, UnmatchedMessage.codes,
                              UnmatchedMessage.sender_domain, UnmatchedMessage.message_id))
    return where


def dealt_with(session: Session, item_id: int, *, now: dt.datetime, actor: str,
               note: str = "") -> UnmatchedMessage:
    """Mark one dealt with (the caller commits)."""
    row = session.get(UnmatchedMessage, item_id)
    if row is None:
        raise NotFoundError(f"no unmatched inbox message {item_id}; see `iro returns unmatched`")
    if row.dealt_with_at is not None:
        raise RefusedError(f"unmatched message {item_id} was already dealt with by "
                           f"{row.dealt_with_by} at {row.dealt_with_at:%Y-%m-%d %H:%M} UTC")
    if len(note) > 500:
        raise BadInputError("the note is longer than 500 characters; keep it short (no names)")
    row.dealt_with_at, row.dealt_with_by, row.note = now, actor, note.strip() or None
    audit.record(session, "inbox.dealt_with", "unmatched_message", row.id, actor=actor,
                 message_id=row.message_id[:200], reason=row.reason)
    return row
