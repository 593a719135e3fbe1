"""Many failed letters queued again at once (`iro dispatches retry --failed`): after a fault that
failed a batch for good (a mail server down for longer than the retries last, a template fixed
since), a person re-queues them in one step, narrowed by when they failed and why."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.store import audit
from workers.store.models import Dispatch


def failed_ids(session: Session, *, since: dt.datetime | None = None,
               reason: str | None = None) -> list[int]:
    """Failed dispatches, oldest first; ``since``: failed at or after it; ``reason``: whose last
    error contains it (any case). Bounced letters are left: they need a corrected address."""
    query = select(Dispatch.id).where(Dispatch.state == "failed").order_by(Dispatch.id)
    if since is not None:
        query = query.where(Dispatch.updated_at >= since)
    if reason:
        query = query.where(Dispatch.last_error.ilike(f"%{_escape(reason)}%", escape="\\"))
    return list(session.scalars(query))


def retry_failed(session: Session, *, now: dt.datetime, actor: str,
                 since: dt.datetime | None = None, reason: str | None = None) -> list[int]:
    """Queue the matching failed dispatches again (each audited); the caller commits."""
    ids = failed_ids(session, since=since, reason=reason)
    for dispatch_id in ids:
        retry(session, dispatch_id, now=now, actor=actor)
    return ids


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def retry(session: Session, dispatch_id: int, *, now: dt.datetime, actor: str = "system") -> str:
    """Put a failed (or stuck) dispatch back to pending, due now; the scheduler sends it on its
    next tick. Returns the state it was in; the caller commits. `iro dispatches retry` and the
    web page both call this."""
    from workers.errors import NotFoundError, RefusedError

    d = session.get(Dispatch, dispatch_id)
    if d is None:
        raise NotFoundError(f"dispatch {dispatch_id} does not exist; see `iro dispatches`")
    if d.state in ("sent", "sending", "cancelled"):
        raise RefusedError(f"dispatch {dispatch_id} is {d.state}; only failed, bounced, "
                           "pending or queued dispatches can be retried")
    previous = d.state
    d.state, d.due_at, d.claimed_at = "pending", now, None
    audit.record(session, "dispatch.retried", "dispatch", d.id, actor=actor,
                 previous_state=previous)
    return previous
