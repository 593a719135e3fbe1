"""A mailbox's back-off, shared by every worker: when the mail server tells one worker to wait,
all of them wait.

Exchange's ``ErrorServerBusy`` (its BackOffMilliseconds) and Graph's 429 ``Retry-After`` throttle
the mailbox, not the one request that received them. When only the letter that met the answer
waited, the other threads sent 19 more requests during a 30 s back-off (issue 21), and each of
those earns the mailbox more throttling. So the dispatcher records every ``ThrottledError``'s
wait here and asks before any request to the server (workers.queue.dispatching); the inbox poll
does the same (workers.returns.poll.make_job).

In Redis the end of a mailbox's back-off is one key (``iro:backoff:<mailbox>``), kept only if it
is later than the end already there, and expiring with it; without Redis (the embedded default:
one process) it is kept in memory. The end is written and read with the workers' clocks (aware
UTC, injected), which production keeps in step with NTP; a skew of a few milliseconds is nothing
against back-offs of seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from workers.config.settings import Settings

log = logging.getLogger(__name__)

# KEYS[1] the mailbox's key; ARGV: the back-off's end (epoch seconds), its lifetime (ms).
_HOLD = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
"""


class Backoff(Protocol):
    def hold(self, mailbox: str, seconds: float, now: dt.datetime) -> None:
        """The server asked for ``seconds`` of quiet from ``now`` (a longer hold already in
        force stays)."""
        ...

    def remaining(self, mailbox: str, now: dt.datetime) -> float:
        """Seconds of the mailbox's back-off still to run at ``now``; 0.0 when there is none."""
        ...


class InProcessBackoff:
    """The back-off in memory, shared by the threads of one process."""

    def __init__(self) -> None:
        self._until: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()

    def hold(self, mailbox: str, seconds: float, now: dt.datetime) -> None:
        until = now + dt.timedelta(seconds=max(seconds, 0.0))
        with self._lock:
            current = self._until.get(mailbox.lower())
            if current is None or until > current:
                self._until[mailbox.lower()] = until

    def remaining(self, mailbox: str, now: dt.datetime) -> float:
        with self._lock:
            until = self._until.get(mailbox.lower())
        return 0.0 if until is None else max((until - now).total_seconds(), 0.0)


class RedisBackoff:
    """The back-off in Redis, shared by every worker that uses the same Redis."""

    def __init__(self, client: Any, prefix: str = "iro:backoff:") -> None:
        self.client, self.prefix = client, prefix
        self._hold = client.register_script(_HOLD)

    def hold(self, mailbox: str, seconds: float, now: dt.datetime) -> None:
        from redis.exceptions import RedisError

        if seconds <= 0:
            return
        until = now.timestamp() + seconds
        try:
            self._hold(keys=[self.prefix + mailbox.lower()],
                       args=[repr(until), math.ceil(seconds * 1000)])
        except RedisError as exc:
            # This letter still waits; the others meet the server's answer and wait then.
            log.warning("back-off for mailbox %s not shared: Redis is unreachable (%s)",
                        mailbox, type(exc).__name__)

    def remaining(self, mailbox: str, now: dt.datetime) -> float:
        from redis.exceptions import RedisError

        from workers.errors import TransientDeliveryError

        try:
            until = self.client.get(self.prefix + mailbox.lower())
        except RedisError as exc:
            raise TransientDeliveryError(
                f"back-off for mailbox {mailbox}: Redis is unreachable ({type(exc).__name__})"
            ) from exc
        if until is None:
            return 0.0
        return max(float(until) - now.timestamp(), 0.0)


def make_backoff(settings: Settings, redis_client: Any = None) -> Backoff:
    """Shared through Redis when Redis is configured, else among this process's threads."""
    if settings.redis_url is None:
        return InProcessBackoff()
    if redis_client is None:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    return RedisBackoff(redis_client)
