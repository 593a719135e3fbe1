"""The per-mailbox rate limit: shared through Redis by separate processes, or in memory."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis

from workers.mail.ratelimit import (
    InProcessRateLimiter,
    RedisRateLimiter,
    Unlimited,
    make_rate_limiter,
)
from workers.settings import load_settings

MAILBOX = "iro.service@council.example.gov.uk"

CHILD = """
import sys, redis
from workers.mail.ratelimit import RedisRateLimiter
limiter = RedisRateLimiter(redis.Redis.from_url(sys.argv[1]), limit=12)
print(sum(limiter.try_acquire(sys.argv[2]) == 0.0 for _ in range(40)))
"""


@pytest.mark.redis
def test_two_processes_sharing_redis_get_exactly_the_limit_between_them(redis_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, redis_url, MAILBOX], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    granted = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(granted) == 12  # 80 attempts inside one window, 12 grants, whoever won them
    limiter = RedisRateLimiter(redis.Redis.from_url(redis_url), limit=12)
    wait = limiter.try_acquire(MAILBOX.upper())  # keyed case-insensitively
    assert 0 < wait <= 60
    assert limiter.try_acquire("other.team@council.example.gov.uk") == 0.0  # per mailbox


def test_in_process_limit_holds_across_threads() -> None:
    limiter = InProcessRateLimiter(limit=7)
    results: list[float] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(10):
            wait = limiter.try_acquire(MAILBOX)
            with lock:
                results.append(wait)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count(0.0) == 7
    assert all(0 < w <= 60 for w in results if w)


def test_a_slot_frees_when_the_window_moves_on() -> None:
    limiter = InProcessRateLimiter(limit=2, window_seconds=0.05)
    assert [limiter.try_acquire(MAILBOX) == 0.0 for _ in range(3)] == [True, True, False]
    from workers.mail.ratelimit import acquire

    assert acquire(limiter, MAILBOX, timeout=5)  # waits for the window, then is granted


def test_settings_choose_the_limiter(tmp_path: Path) -> None:
    def make(env: dict[str, str]) -> object:
        return make_rate_limiter(load_settings(tmp_path, environ=env))

    assert isinstance(make({}), Unlimited)  # outbox
    assert isinstance(make({"IRO_TRANSPORT": "smtp"}), Unlimited)
    ews = make({"IRO_TRANSPORT": "ews"})
    assert isinstance(ews, InProcessRateLimiter) and ews.limit == 30
    smtp = make({"IRO_TRANSPORT": "smtp", "IRO_MAILBOX_RATE_LIMIT_PER_MINUTE": "100"})
    assert isinstance(smtp, InProcessRateLimiter) and smtp.limit == 100
    shared = make({"IRO_TRANSPORT": "graph", "IRO_REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert isinstance(shared, RedisRateLimiter) and shared.limit == 30
