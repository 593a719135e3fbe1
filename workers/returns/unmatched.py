"""Inbox messages left for a person, and the "dealt with" mark that takes one off the list.

The poll adds one row per message it cannot file (no code, several forms it cannot tell apart,
a return dated before its form went…) and leaves the message in the inbox. A person reads it
there, does what it needs (records the return by hand, answers the question) and marks it dealt
with, naming themselves; the list then shrinks. Dates, the sender's domain and counts only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.returns.inbox import InboxMessage
from workers.store import audit
from workers.store.returns_models import UnmatchedMessage

REASONS = {
    "no_code": "no form code in it",
    "several_codes": "several forms: the attachments cannot be told apart",
    "already_returned": "the form was already returned",
    "before_sent": "dated before its form was sent",
    "not_sent": "its form has not been sent yet",
    "bounce_unmatched": "a bounce for no letter we know",
}


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


def listed(session: Session, *, offset: int = 0, limit: int = 50,
           include_dealt_with: bool = False) -> tuple[list[UnmatchedMessage], int]:
    """A page of them, oldest first (the longest waiting is dealt with first), and the total;
    paged in SQL, as a busy mailbox leaves thousands over a year."""
    where = [] if include_dealt_with else [UnmatchedMessage.dealt_with_at.is_(None)]
    total = session.scalar(select(func.count()).select_from(UnmatchedMessage).where(*where)) or 0
    rows = list(session.scalars(select(UnmatchedMessage).where(*where)
                                .order_by(UnmatchedMessage.received_at, UnmatchedMessage.id)
                                .offset(offset).limit(limit)))
    return rows, total


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
