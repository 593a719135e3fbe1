"""A per-mailbox send rate limit that holds across every worker process and machine.

Exchange Online accepts at most 30 messages a minute from one mailbox; beyond that it throttles
the whole mailbox. A sliding-window log gives exactly "at most N sends in any window": each grant
is a timestamped entry in a Redis sorted set keyed by mailbox, added by one Lua script (atomic,
and timed by the Redis server's clock, so workers on machines whose clocks differ still agree).
Without Redis (the embedded default: one process) the same rule runs in memory.

``try_acquire`` never sleeps: it answers 0.0 when the send may go now, else the seconds until a
slot frees, so an actor can re-queue itself with that delay rather than hold a worker thread.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from workers.settings import Settings

DEFAULT_WINDOW_SECONDS = 60.0

# KEYS[1] the mailbox's log; ARGV: limit, window (µs), unique member. Returns "0" when granted,
# else the seconds to wait, as a string (Redis would truncate a Lua float to an integer).
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring((tonumber(oldest[2]) + window - now) / 1000000)
"""


class RateLimiter(Protocol):
    def try_acquire(self, mailbox: str) -> float:
        """0.0: go ahead (the send is counted); otherwise seconds until a slot frees."""
        ...


class Unlimited:
    """No limit (SMTP and outbox unless one is configured)."""

    def try_acquire(self, mailbox: str) -> float:
        return 0.0


class InProcessRateLimiter:
    """The sliding window in memory, shared by the threads of one process."""

    def __init__(self, limit: int, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        if limit < 1:
            raise ValueError("the rate limit must be at least 1 message per window")
        self.limit, self.window = limit, window_seconds
        self._grants: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def try_acquire(self, mailbox: str) -> float:
        now = time.monotonic()
        with self._lock:
            log = self._grants.setdefault(mailbox.lower(), deque())
            while log and log[0] <= now - self.window:
                log.popleft()
            if len(log) < self.limit:
                log.append(now)
                return 0.0
            return max(log[0] + self.window - now, 0.001)


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
        self._script = client.register_script(_SLIDING_WINDOW)

    def try_acquire(self, mailbox: str) -> float:
        from redis.exceptions import RedisError

        from workers.errors import TransientDeliveryError

        try:
            answer = self._script(
                keys=[self.prefix + mailbox.lower()],
                args=[self.limit, int(self.window * 1_000_000), uuid.uuid4().hex],
            )
        except RedisError as exc:
            raise TransientDeliveryError(
                f"rate limit for mailbox {mailbox}: Redis is unreachable ({type(exc).__name__})"
            ) from exc
        wait = float(answer.decode() if isinstance(answer, bytes) else answer)
        return 0.0 if wait == 0 else max(wait, 0.001)


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
    if settings.redis_url is None:
        return InProcessRateLimiter(limit)
    if redis_client is None:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    return RedisRateLimiter(redis_client, limit)
