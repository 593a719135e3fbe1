"""A per-mailbox send rate limit that holds across every worker process and machine.

Exchange Online accepts at most 30 messages a minute from one mailbox; beyond that it throttles
the whole mailbox. A sliding-window log gives exactly "at most N sends in any window": each slot
is a timestamped entry in a Redis sorted set keyed by mailbox, written by one Lua script (atomic,
and timed by the Redis server's clock, so workers on machines whose clocks differ still agree).
Without Redis (the embedded default: one process) the same rule runs in memory.

A slot counts from the moment the send goes, not from when a worker began on the letter: the
mail server counts arrivals, and a slot counted before 1-10 s of building a PDF let Exchange see
36 and 40 sends in one minute against a limit of 30 (issue 21). So a worker *holds* a named slot
before composing (``try_acquire(mailbox, slot)``: the slot counts from now, so no other worker
can take it while this one composes and the composing is not wasted), and asks again with the
same name immediately before sending, which moves the slot's time to that moment. Entries only
ever move forward in time, so at most N sends fall in any window. A hold the window has already
forgotten (composing took longer than the window) is taken afresh, if there is room. A slot that
will not be used is given back (``release``); one left by a killed worker lapses with the window.

``try_acquire`` never sleeps: it answers 0.0 when the slot is yours, else the seconds until one
frees, so an actor can re-queue itself with that delay rather than hold a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from workers.config.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_WINDOW_SECONDS = 60.0
# The window the workers keep is this much longer than the server's: a slot is counted just
# before the request leaves, and the server counts its arrival, which comes a variable moment
# later (an upload of a PDF pack). A minute and a second keeps every server-side minute under the
# limit while that variation stays under a second, for 1/61 of the rate.
ARRIVAL_MARGIN_SECONDS = 1.0

# KEYS[1] the mailbox's log; ARGV: limit, window (µs), the slot's name. Returns "0" when the slot
# is the caller's (held before, now counted from this moment; or newly taken), else the seconds
# to wait, as a string (Redis would truncate a Lua float to an integer).
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring((tonumber(oldest[2]) + window - now) / 1000000)
"""


class RateLimiter(Protocol):
    def try_acquire(self, mailbox: str, slot: str | None = None) -> float:
        """0.0: the slot is yours, counted from now; otherwise seconds until a slot frees.

        ``slot`` names it: asking again with the same name keeps a slot already held and counts
        it from the new moment (ask once before composing, once just before sending)."""
        ...

    def release(self, mailbox: str, slot: str) -> None:
        """Give back a held slot that will not be used (nothing happens if it is not held)."""
        ...


class Unlimited:
    """No limit (SMTP and outbox unless one is configured)."""

    def try_acquire(self, mailbox: str, slot: str | None = None) -> float:
        return 0.0

    def release(self, mailbox: str, slot: str) -> None:
        return None


class InProcessRateLimiter:
    """The sliding window in memory, shared by the threads of one process."""

    def __init__(self, limit: int, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        if limit < 1:
            raise ValueError("the rate limit must be at least 1 message per window")
        self.limit, self.window = limit, window_seconds
        self._slots: dict[str, dict[str, float]] = {}  # mailbox → slot name → when it counts
        self._lock = threading.Lock()

    def try_acquire(self, mailbox: str, slot: str | None = None) -> float:
        name = slot or uuid.uuid4().hex
        with self._lock:
            now = time.monotonic()  # inside the lock: no slot is stamped later than this "now"
            log = self._slots.setdefault(mailbox.lower(), {})
            for held, at in list(log.items()):
                if at <= now - self.window:
                    del log[held]
            if name in log or len(log) < self.limit:
                log[name] = now
                return 0.0
            return max(min(log.values()) + self.window - now, 0.001)

    def release(self, mailbox: str, slot: str) -> None:
        with self._lock:
            self._slots.get(mailbox.lower(), {}).pop(slot, None)


class RedisRateLimiter:
    """The sliding window in Redis, shared by every worker that uses the same Redis."""

    def __init__(
        self,
        client: Any,
        limit: int,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        prefix: str = "iro:ratelimit:",
    ) -> None:
        if limit < 1:
            raise ValueError("the rate limit must be at least 1 message per window")
        self.limit, self.window, self.prefix = limit, window_seconds, prefix
        self.client = client
        self._script = client.register_script(_SLIDING_WINDOW)

    def try_acquire(self, mailbox: str, slot: str | None = None) -> float:
        from redis.exceptions import RedisError

        from workers.errors import TransientDeliveryError

        try:
            answer = self._script(
                keys=[self.prefix + mailbox.lower()],
                args=[self.limit, int(self.window * 1_000_000), slot or uuid.uuid4().hex],
            )
        except RedisError as exc:
            raise TransientDeliveryError(
                f"rate limit for mailbox {mailbox}: Redis is unreachable ({type(exc).__name__})"
            ) from exc
        wait = float(answer.decode() if isinstance(answer, bytes) else answer)
        return 0.0 if wait == 0 else max(wait, 0.001)

    def release(self, mailbox: str, slot: str) -> None:
        from redis.exceptions import RedisError

        try:
            self.client.zrem(self.prefix + mailbox.lower(), slot)
        except RedisError as exc:  # the slot lapses with the window; nothing is lost
            log.warning("rate limit for mailbox %s: could not give a slot back (%s)",
                        mailbox, type(exc).__name__)


def acquire(limiter: RateLimiter, mailbox: str, timeout: float) -> bool:
    """Wait (up to ``timeout`` seconds) for a slot; for callers that may block, such as
    ``iro run --once``. Workers should prefer ``try_acquire`` and re-queue with its delay."""
    deadline = time.monotonic() + timeout
    while True:
        wait = limiter.try_acquire(mailbox)
        if wait == 0.0:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(wait, remaining))


def make_rate_limiter(settings: Settings, redis_client: Any = None) -> RateLimiter:
    """The limiter the settings ask for: 30/minute for ews and graph unless configured,
    none for smtp and outbox unless configured; in Redis when Redis is configured."""
    limit = settings.rate_limit_per_minute
    if limit is None:
        return Unlimited()
    window = DEFAULT_WINDOW_SECONDS + ARRIVAL_MARGIN_SECONDS
    if settings.redis_url is None:
        return InProcessRateLimiter(limit, window)
    if redis_client is None:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    return RedisRateLimiter(redis_client, limit, window)
