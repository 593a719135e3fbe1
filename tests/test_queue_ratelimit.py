"""The per-mailbox rate limit holds at the server, across workers sharing Redis.

The limit is counted where it matters — by the SMTP server's own clock as each message arrives —
not by timing the test:
- two real `iro worker` processes, 12 a minute and 20 letters: the server holds exactly 12 while
  the first window is still open, the rest wait in ``queued`` with no attempt counted, and after
  the window every letter arrives once, never more than 12 in any minute of arrivals;
- dramatiq workers on Redis with a short window, where the first letters take seconds to build
  (as a PDF does): the slot counts from the send, so no window of arrivals holds more than the
  limit (counted when a worker began on the letter, Exchange saw 36 and 40 against 30).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import threading
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from dramatiq import Worker
from factories import postgres_url
from fakes.smtp import SmtpServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from test_crash import Cluster, wait_until
from test_queue_dispatching import ALLOWED, MAILBOX, make_letters

from workers.core.clock import SYSTEM_CLOCK
from workers.mail.message import OutgoingMessage
from workers.mail.pause import default_pause_hooks
from workers.mail.ratelimit import RedisRateLimiter
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue import actors
from workers.queue.broker import make_redis_broker, queue_sizes, start_embedded_worker
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher
from workers.queue.ledger import InProcessLedger, make_ledger
from workers.queue.outcomes import RetryLater
from workers.queue.scheduler import Scheduler
from workers.store.models import Dispatch
from workers.store.session import open_store, upgrade

utcnow = SYSTEM_CLOCK.now  # relative times only: these tests never need a date

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LIMIT = 12
LETTERS = 20
WINDOW = dt.timedelta(seconds=60)
REPO = Path(__file__).resolve().parents[1]


def start_cluster(tmp_path: Path, pg_database: str, redis_url: str, **env: str) -> Cluster:
    """A migrated store on a fresh schema and the environment `iro` processes run with."""
    url = postgres_url(pg_database)
    upgrade(url)
    config = tmp_path / "config"
    if not config.exists():
        shutil.copytree(REPO / "config", config)  # the shipped rules: composers read them
    full = {
        **os.environ,
        "IRO_DATABASE_URL": url,
        "IRO_REDIS_URL": redis_url,
        "IRO_MAILBOX_ADDRESS": MAILBOX,
        "IRO_SCHEDULER_TICK_SECONDS": "1",
        "IRO_SCHEDULER_RECONCILE_AFTER_SECONDS": "10",
        "IRO_TEMPLATES_DIR": str(REPO / "templates_docx"),
        **env,
    }
    return Cluster(full, config, tmp_path, [])


def stop_cluster(cluster: Cluster) -> None:
    for proc in cluster.procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def limited(
    tmp_path: Path, pg_database: str, redis_url: str, smtp_server: SmtpServer
) -> Iterator[Cluster]:
    cluster = start_cluster(
        tmp_path, pg_database, redis_url,
        IRO_TRANSPORT="smtp", IRO_SMTP_HOST=smtp_server.host,
        IRO_SMTP_PORT=str(smtp_server.port), IRO_MAILBOX_RATE_LIMIT_PER_MINUTE=str(LIMIT),
    )
    yield cluster
    stop_cluster(cluster)


def rows(url: str) -> list[Dispatch]:
    with open_store(url)() as session:
        return list(session.scalars(select(Dispatch).order_by(Dispatch.id)))


def most_in_any_window(arrivals: list[float], window: float) -> int:
    """The most arrivals in any ``window`` seconds (each window starting at an arrival)."""
    times = sorted(arrivals)
    return max((bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


@pytest.mark.slow
def test_two_workers_never_exceed_the_mailbox_limit(
    limited: Cluster, smtp_server: SmtpServer
) -> None:
    url = limited.env["IRO_DATABASE_URL"]
    make_letters(open_store(url), LETTERS, state="pending")
    limited.start("worker", "--processes", "1", "--threads", "4")
    limited.start("worker", "--processes", "1", "--threads", "4")
    limited.start("scheduler")

    smtp_server.wait_for(LIMIT, timeout=60)
    # Give the waiting letters every chance to break the limit: each has been offered to a
    # worker and turned back at least once before we count.
    wait_until(
        lambda: all(r.state == "sent" or r.due_at > utcnow() for r in rows(url)), 30,
        "every unsent letter to be deferred by the limit",
    )
    snapshot = rows(url)
    at_server = len(smtp_server.received)
    first_sent = min(r.sent_at for r in snapshot if r.sent_at is not None)
    still_in_first_window = utcnow() - first_sent < WINDOW
    assert still_in_first_window, "the machine was too slow to observe the first window"
    assert at_server == LIMIT
    waiting = [r for r in snapshot if r.state != "sent"]
    assert len(waiting) == LETTERS - LIMIT
    # turned back by the limit: queued, not failed, and the wait was not counted as an attempt
    assert {r.state for r in waiting} == {"queued"}
    assert {r.attempts for r in waiting} == {0}
    assert all(r.due_at > first_sent for r in waiting)

    # After the window the rest go, each once.
    smtp_server.wait_for(LETTERS, timeout=150)
    wait_until(lambda: all(r.state == "sent" for r in rows(url)), 30, "the store to catch up")
    keys = Counter(str(m["X-IRO-Dispatch"]) for m in smtp_server.messages)
    assert len(keys) == LETTERS and set(keys.values()) == {1}
    final = rows(url)
    assert {r.attempts for r in final} == {1}
    # In any minute of arrivals at the server, by its own clock, no more than the limit.
    arrivals = [r.at for r in smtp_server.received]
    assert most_in_any_window(arrivals, WINDOW.total_seconds()) == LIMIT


# -- letters that take seconds to build ----------------------------------------------------------

SHORT_LIMIT = 3
SHORT_WINDOW = 3.0  # seconds
# Arrivals trail the moment a slot is counted by the SMTP conversation itself (milliseconds on
# loopback); windows this much shorter than the limiter's absorb that, nothing more.
ARRIVAL_MARGIN = 0.5
BUILD_SECONDS = 2.5


class FirstLettersBuiltSlowly:
    """The letter composer, the first ``slow`` letters taking ``BUILD_SECONDS`` each to build, as
    a PDF conversion does under load: the time between a worker's turn and its send."""

    def __init__(self, slow: int) -> None:
        self.inner = Composers(ComposeContext(allowed_domains=ALLOWED))
        self.slow, self.built = slow, 0
        self._lock = threading.Lock()

    def __call__(self, session: Session, row: Dispatch) -> OutgoingMessage:
        with self._lock:
            slow = self.built < self.slow
            self.built += 1
        if slow:
            time.sleep(BUILD_SECONDS)
        return self.inner(session, row)


def test_the_slot_counts_from_the_send_so_slow_letters_never_crowd_a_window(
    pg_database: str, redis_url: str, smtp_server: SmtpServer
) -> None:
    url = postgres_url(pg_database)
    upgrade(url)
    sessions = open_store(url)
    ids = make_letters(sessions, 12)
    transport = SmtpTransport(SmtpConfig(host=smtp_server.host, port=smtp_server.port,
                                         mailbox=MAILBOX, timeout_seconds=5))
    limiter = RedisRateLimiter(redis.Redis.from_url(redis_url), SHORT_LIMIT, SHORT_WINDOW)
    dispatcher = Dispatcher(
        sessions=sessions, transport=transport, compose=FirstLettersBuiltSlowly(SHORT_LIMIT),
        pause=default_pause_hooks(), lease=30, limiter=limiter,
    )
    brokers = [make_redis_broker(redis_url, namespace="iro-rate-window") for _ in range(2)]
    for broker in brokers:
        actors.declare(broker)
    actors.use(lambda: dispatcher)
    workers = [start_embedded_worker(broker, threads=4) for broker in brokers]  # 8 threads
    try:
        actors.enqueue(brokers[0], ids, lease=30)
        smtp_server.wait_for(12, timeout=120)
        wait_until(lambda: {r.state for r in rows(url)} == {"sent"}, 30, "the store to catch up")
    finally:
        for worker in workers:
            worker.stop()
        transport.close()

    assert Counter(str(m["X-IRO-Dispatch"]) for m in smtp_server.messages).most_common(1)[0][1] == 1
    arrivals = [r.at for r in smtp_server.received]
    # The first three letters took 2.5 s to build in their slots; counted from when a worker
    # took the slot, the next three went as soon as the window moved on, and arrived within
    # 2.5 s of them.
    assert most_in_any_window(arrivals, SHORT_WINDOW - ARRIVAL_MARGIN) <= SHORT_LIMIT


# -- the reconciler and a backlog waiting under the limit ----------------------------------------


def test_reconciler_re_enqueues_only_what_redis_lost(pg_database: str, redis_url: str) -> None:
    """A backlog older than reconcile_after is waiting, not lost: no copies pile up; a message
    Redis dropped (deleted, or the whole db flushed) is sent again, once."""
    url = postgres_url(pg_database)
    upgrade(url)
    sessions = open_store(url)
    ids = make_letters(sessions, 12)  # queued
    broker = make_redis_broker(redis_url, namespace="iro-ledger-test")
    ledger = make_ledger(broker, actors.QUEUE)
    actors.enqueue(broker, ids[:8], lease=30)
    # four wait in the delay queue, as a rate-limited retry does
    actor = actors.declare(broker)
    for dispatch_id in ids[8:]:
        actor.send_with_options(args=(dispatch_id,), delay=600_000)  # recorded by the broker
    sched = Scheduler(sessions=sessions, enqueue=lambda got: actors.enqueue(
        broker, got, lease=30), reconcile_after=30, lease=30, holding=ledger.holding,
        lost_after=5)
    long_ago = utcnow() - dt.timedelta(hours=1)
    with sessions() as session:
        session.execute(update(Dispatch).values(updated_at=long_ago, due_at=long_ago))
        session.commit()

    for _ in range(3):  # pass after pass: nothing is lost, nothing is added
        assert sched.run_now(["reconcile"]) == {"reconcile": 0}
        with sessions() as session:
            session.execute(update(Dispatch).values(updated_at=long_ago))
            session.commit()
    assert queue_sizes(broker, actors.QUEUE) == {"waiting": 8, "delayed": 4}

    # Redis loses two waiting messages and one delayed one
    client = broker.client  # type: ignore[attr-defined]
    lost = [ids[0], ids[1], ids[9]]
    for dispatch_id in lost:
        message_id = client.get(f"iro-ledger-test:ledger:{actors.QUEUE}:{dispatch_id}")
        for name in ledger.hashes:  # type: ignore[attr-defined]
            client.hdel(name, message_id)
    assert ledger.holding(ids) == set(ids) - set(lost)
    assert sched.run_now(["reconcile"]) == {"reconcile": 3}
    assert ledger.holding(ids) == set(ids)
    with sessions() as session:
        session.execute(update(Dispatch).values(updated_at=long_ago))
        session.commit()
    assert sched.run_now(["reconcile"]) == {"reconcile": 0}

    client.flushdb()  # Redis restarted without persistence: every message is lost
    assert sched.run_now(["reconcile"]) == {"reconcile": 12}
    assert ledger.holding(ids) == set(ids)


def test_in_process_ledger_holds_what_this_process_enqueued() -> None:
    ledger = InProcessLedger()
    ledger.record(5, object())
    ledger.record(7, object())
    assert ledger.holding([5, 6, 7]) == {5, 7}
    assert ledger.holding([]) == set()


class _AlwaysWait:
    """A dispatcher whose every letter must wait a minute (as the rate limit answers)."""

    def process(self, dispatch_id: int) -> None:
        raise RetryLater(f"dispatch {dispatch_id}: mailbox rate limit", 60.0, throttled=True)


def test_the_ledger_follows_a_message_through_its_retry(redis_url: str) -> None:
    # dramatiq gives a retry a new redis_message_id: a marker written only at the first send would
    # name a message already acknowledged, and the reconciler would take a waiting letter for lost
    broker = make_redis_broker(redis_url, namespace="iro-ledger-retry")
    client = broker.client  # type: ignore[attr-defined]
    marker = f"iro-ledger-retry:ledger:{actors.QUEUE}:41"
    ledger = make_ledger(broker, actors.QUEUE)
    actors.declare(broker)
    actors.use(lambda: _AlwaysWait())  # type: ignore[arg-type, return-value]
    actors.enqueue(broker, [41], lease=30)
    first = client.get(marker)
    assert ledger.holding([41]) == {41}
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        # the worker ran it, put the retry in the delay queue and acknowledged the first message
        wait_until(lambda: not client.hexists(f"iro-ledger-retry:{actors.QUEUE}.msgs", first),
                   20, "the first message to be acknowledged")
        assert client.get(marker) != first
        assert ledger.holding([41]) == {41}
    finally:
        worker.stop()
        client.flushdb()
