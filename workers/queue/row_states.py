"""A dispatch row's moves out of ``sending``, as the dispatcher makes them: sent, back to queued,
failed. Each is one conditional UPDATE on ``state == 'sending'`` (or the states given), so a copy
of a message that lost its claim changes nothing; the caller owns the session and commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workers.store import audit
from workers.store.models import Dispatch

MAX_ERROR = 2000
MAX_AUDIT_REASON = 200  # workers.store.audit keeps codes, not long text


def mark_sent(session: Session, dispatch_id: int, message_id: str, *, now: dt.datetime,
              transport: str, recovered: bool) -> bool:
    """``sent`` with the message id, audited once: a second record of the same send (a retry
    after a lost commit, another worker reading the journal) changes nothing."""
    result = session.execute(
        update(Dispatch)
        .where(Dispatch.id == dispatch_id, Dispatch.state == "sending")
        .values(state="sent", sent_at=now, updated_at=now, message_id=message_id,
                last_error=None)
        .execution_options(synchronize_session=False)
    )
    changed = bool(result.rowcount == 1)  # type: ignore[attr-defined]
    if changed:
        audit.record(session, "dispatch.sent", "dispatch", dispatch_id, transport=transport,
                     recovered=recovered)
    return changed


def mark_queued(session: Session, dispatch_id: int, *, now: dt.datetime, delay: float,
                reason: str | None, uncount: bool, ask_first_lease: float | None) -> None:
    """Back to ``queued``, not due before ``delay`` (so no copy sends early).

    ``uncount`` takes back the attempt the claim counted (a rate-limit wait is not an attempt).
    ``ask_first_lease`` (the lease, when given) keeps the row ``sending`` with a claim that
    lapses when the delay ends, so whoever takes it then asks the server before sending again.
    """
    due = now + dt.timedelta(seconds=delay)
    values: dict[str, object] = {
        "state": "queued", "due_at": due, "updated_at": now, "claimed_at": None,
    }
    if ask_first_lease is not None:
        values.update(state="sending",
                      claimed_at=due - dt.timedelta(seconds=ask_first_lease + 1.0))
    if reason is not None:
        values["last_error"] = reason[:MAX_ERROR]
    if uncount:
        values["attempts"] = Dispatch.attempts - 1
    session.execute(
        update(Dispatch)
        .where(Dispatch.id == dispatch_id, Dispatch.state == "sending")
        .values(values)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, dispatch_id: int, reason: str, *, now: dt.datetime,
                only_from: tuple[str, ...], keep_error: bool) -> tuple[bool, str]:
    """``failed`` with a reason a person can act on, audited; whether it changed, and the text.

    ``keep_error`` keeps the last error stored (retries exhausted) and appends ``reason``.
    """
    previous = session.scalar(select(Dispatch.last_error).where(Dispatch.id == dispatch_id))
    text = f"{previous} ({reason})" if keep_error and previous else reason
    result = session.execute(
        update(Dispatch)
        .where(Dispatch.id == dispatch_id, Dispatch.state.in_(only_from))
        .values(state="failed", updated_at=now, claimed_at=None, last_error=text[:MAX_ERROR])
        .execution_options(synchronize_session=False)
    )
    changed = bool(result.rowcount == 1)  # type: ignore[attr-defined]
    if changed:
        audit.record(session, "dispatch.failed", "dispatch", dispatch_id,
                     reason=text[:MAX_AUDIT_REASON])
    return changed, text
