"""What one attempt to send a dispatch can come to, and when to try again: the dispatcher's
outcomes, the signal to retry later, how long a claim holds and the back-off between attempts."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_

from workers.store.models import Dispatch

# Never hold a claim for less than this, whatever reconcile_after_seconds says: a shorter lease
# would let a second worker take a dispatch that is still being sent.
MIN_LEASE_SECONDS = 10
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 600.0

OutcomeKind = Literal["sent", "recovered", "skipped", "paused", "failed"]


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    dispatch_id: int
    message_id: str | None = None


class RetryLater(Exception):  # noqa: N818 - a signal to the actor, not an error a user sees
    """Try this dispatch again after ``delay_seconds`` (the row is back in ``queued``).

    ``urgent``: the letter was already on its way (deferred by the server, or held by a worker
    that died), so it comes back ahead of the backlog rather than behind it.
    """

    def __init__(
        self, reason: str, delay_seconds: float, *, throttled: bool, urgent: bool = False
    ) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds
        self.throttled = throttled
        self.urgent = urgent


def lease_seconds(reconcile_after_seconds: float) -> float:
    """How long a claim holds before another worker may take the dispatch over."""
    return max(float(reconcile_after_seconds), MIN_LEASE_SECONDS)


def backoff_seconds(attempt: int) -> float:
    """Exponential back-off with jitter for connection errors: 5 s, 10 s, 20 s … 10 min."""
    base = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def claimable(now: dt.datetime, lease: float) -> object:
    """The WHERE clause of a claim: due and waiting, or sending with an expired lease."""
    return or_(
        Dispatch.state.in_(("pending", "queued")) & (Dispatch.due_at <= now),
        (Dispatch.state == "sending") & (Dispatch.claimed_at < now - dt.timedelta(seconds=lease)),
    )
