"""Storms through real workers on Redis and PostgreSQL: Exchange throttling, Graph 429 and a wrong
password.

- EWS: every few CreateItem requests answer ErrorServerBusy with a back-off, to two `iro worker`
  processes of four threads: every letter still goes once, none fails, the letter that met the
  answer waited at least the back-off, and no worker sent the server anything during it (by the
  server's own clock, after a grace for requests already on the wire when it answered).
- Graph: 429 with Retry-After to four worker threads, the same.
- SMTP: the server refuses the password for a batch of 100; sending pauses after the first, one
  alert (one ``sending.paused`` audit event, one critical log line), nothing fails, everything
  stays queued; after `iro dispatches resume` with the right password each letter goes once.
"""

from __future__ import annotations

import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import postgres_url
from fakes.ews_server import FakeEwsServer, Fault
from fakes.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraphServer, GraphFault
from fakes.smtp import SmtpServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from test_crash import IRO, Cluster, wait_until
from test_queue_dispatching import MAILBOX, dispatcher, make_letters
from test_queue_ratelimit import start_cluster, stop_cluster

from workers.mail.ews import PROPERTY_NAME
from workers.mail.graph import GraphConfig, GraphTransport
from workers.queue import actors
from workers.queue.broker import make_redis_broker, queue_sizes, start_embedded_worker
from workers.store.models import AuditEvent, Dispatch
from workers.store.session import open_store, upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

BACK_OFF_MS = 2000
# Requests that had passed the back-off check before the worker that met the answer could record
# it are already on their way: a few milliseconds on loopback, granted generously.
IN_FLIGHT_GRACE = 0.5


class StormyEws(FakeEwsServer):
    """Answers ErrorServerBusy to every ``every``-th CreateItem."""

    def __init__(self, every: int) -> None:
        super().__init__(MAILBOX)
        self.every, self.creates, self.busy = every, 0, 0
        self._count_lock = threading.Lock()

    def _take_fault(self, operation: str) -> Fault | None:
        queued = super()._take_fault(operation)
        if queued is not None or operation != "CreateItem":
            return queued
        with self._count_lock:
            self.creates += 1
            if self.creates % self.every != 0:
                return None
            self.busy += 1
        return Fault("ErrorServerBusy", BACK_OFF_MS, None, "CreateItem")


def requests_during_back_offs(
    arrivals: list[tuple[float, str]], back_offs: list[tuple[float, float]]
) -> list[tuple[float, str]]:
    """Requests that reached the server inside a back-off it had asked for (after the grace for
    those already on the wire, and a little before its end for the clocks' rounding)."""
    return [(at, what) for at, what in arrivals
            if any(asked + IN_FLIGHT_GRACE < at < asked + wait - 0.05
                   for asked, wait in back_offs)]


def states(sessions: sessionmaker[Session]) -> Counter[str]:
    with sessions() as session:
        return Counter(dict(session.execute(
            select(Dispatch.state, func.count()).group_by(Dispatch.state)).all()))


def audit_details(sessions: sessionmaker[Session], action: str) -> list[dict[str, Any]]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent.details).where(AuditEvent.action == action)))


def assert_each_once(keys: list[str], expected: int) -> None:
    counts = Counter(keys)
    assert len(counts) == expected and set(counts.values()) == {1}


# -- Exchange: ErrorServerBusy storm ---------------------------------------------------------


@pytest.fixture
def stormy_ews() -> Iterator[StormyEws]:
    server = StormyEws(every=8)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ews_cluster(
    tmp_path: Path, pg_database: str, redis_url: str, stormy_ews: StormyEws
) -> Iterator[Cluster]:
    cluster = start_cluster(
        tmp_path, pg_database, redis_url,
        IRO_TRANSPORT="ews", IRO_EWS_ENDPOINT=stormy_ews.url, IRO_EWS_AUTH="basic",
        IRO_EWS_USERNAME=stormy_ews.username, IRO_EWS_PASSWORD=stormy_ews.password,
        IRO_MAILBOX_RATE_LIMIT_PER_MINUTE="100000",  # the server's throttling is under test
    )
    yield cluster
    stop_cluster(cluster)


def test_exchange_throttling_storm_every_worker_honours_the_back_off(
    ews_cluster: Cluster, stormy_ews: StormyEws
) -> None:
    sessions = open_store(ews_cluster.env["IRO_DATABASE_URL"])
    make_letters(sessions, 50, state="pending")
    ews_cluster.start("worker", "--processes", "2", "--threads", "4")
    ews_cluster.start("scheduler")

    wait_until(lambda: states(sessions) == Counter(sent=50), 180, "all 50 letters sent")

    assert_each_once([str(item.extended_value(PROPERTY_NAME))
                      for item in stormy_ews.sent], 50)
    assert stormy_ews.busy >= 6  # a storm: the server turned requests away again and again
    deferred = audit_details(sessions, "dispatch.deferred")
    assert len(deferred) == stormy_ews.busy  # the letters that met the answer, each once
    assert {d["cause"] for d in deferred} == {"throttled"}
    # every such retry waited at least what the server asked for (recorded, not timed)
    assert min(d["delay_seconds"] for d in deferred) >= BACK_OFF_MS / 1000
    assert audit_details(sessions, "dispatch.failed") == []
    # and the other seven threads kept quiet too: the back-off was the mailbox's, not the letter's
    assert requests_during_back_offs(stormy_ews.arrivals, stormy_ews.busy_at) == []


# -- Graph: 429 with Retry-After -------------------------------------------------------------


class StormyGraph(FakeGraphServer):
    """Answers 429 with Retry-After to every ``every``-th sendMail."""

    def __init__(self, tmp_path: Path, every: int) -> None:
        super().__init__(tmp_path, MAILBOX)
        self.every, self.sends = every, 0

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> Any:
        if raw_path.endswith("/sendMail"):
            with self._lock:
                self.sends += 1
                if self.sends % self.every == 0:
                    self.faults.append(GraphFault(429, 3, "", "sendMail"))
        return super().handle(method, raw_path, headers, body)


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[StormyGraph]:
    server = StormyGraph(tmp_path, every=10)
    server.start()
    yield server
    server.stop()


def test_graph_429_retries_after_what_the_server_asked(
    pg_database: str, redis_url: str, graph: StormyGraph
) -> None:
    url = postgres_url(pg_database)
    upgrade(url)
    sessions = open_store(url)
    ids = make_letters(sessions, 80)
    transport = GraphTransport(GraphConfig(
        tenant_id=TENANT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, mailbox=MAILBOX,
        authority_host=graph.origin, base_url=graph.base_url, timeout_seconds=10,
        ca_bundle=str(graph.ca_path),
    ))
    broker = make_redis_broker(redis_url, namespace="iro-graph-storm")
    actors.declare(broker)
    actors.use(lambda: dispatcher(sessions, transport))
    worker = start_embedded_worker(broker, threads=4)
    try:
        actors.enqueue(broker, ids, lease=30)
        wait_until(lambda: states(sessions) == Counter(sent=80), 180, "all 80 letters sent")
    finally:
        worker.stop()

    assert_each_once([m["internetMessageId"] for m in graph.sent], 80)
    throttled = len(graph.throttled_at)
    assert throttled >= 7
    deferred = audit_details(sessions, "dispatch.deferred")
    assert len(deferred) == throttled and {d["cause"] for d in deferred} == {"throttled"}
    assert min(d["delay_seconds"] for d in deferred) >= 3
    # the other threads waited out each Retry-After too
    assert requests_during_back_offs(graph.arrivals, graph.throttled_at) == []
    assert queue_sizes(broker, actors.QUEUE) == {"waiting": 0, "delayed": 0}
    assert queue_sizes(broker, actors.URGENT_QUEUE) == {"waiting": 0, "delayed": 0}


# -- SMTP: a wrong password pauses sending once ----------------------------------------------


@pytest.fixture
def smtp_cluster(
    tmp_path: Path, pg_database: str, redis_url: str, smtp_server: SmtpServer
) -> Iterator[Cluster]:
    smtp_server.require_auth("svc-iro", "right-s3cret")
    cluster = start_cluster(
        tmp_path, pg_database, redis_url,
        IRO_TRANSPORT="smtp", IRO_SMTP_HOST=smtp_server.host, IRO_SMTP_PORT=str(smtp_server.port),
        IRO_SMTP_USERNAME="svc-iro", IRO_SMTP_PASSWORD="wrong-s3cret",
    )
    yield cluster
    stop_cluster(cluster)


def test_wrong_password_pauses_once_and_resume_sends_each_once(
    smtp_cluster: Cluster, smtp_server: SmtpServer, redis_url: str
) -> None:
    sessions = open_store(smtp_cluster.env["IRO_DATABASE_URL"])
    make_letters(sessions, 100, state="pending")
    workers = [smtp_cluster.start("worker", "--processes", "1", "--threads", "4")
               for _ in range(2)]
    smtp_cluster.start("scheduler")

    wait_until(lambda: audit_details(sessions, "sending.paused") != [], 60, "the pause")
    broker = make_redis_broker(redis_url)
    wait_until(lambda: queue_sizes(broker, actors.QUEUE) == {"waiting": 0, "delayed": 0}
               and states(sessions) == Counter(queued=100), 60,
               "every message to be turned back by the pause")

    assert smtp_server.received == []
    assert len(audit_details(sessions, "sending.paused")) == 1
    alerts = [line for log in smtp_cluster.logs.glob("worker-*.log")
              for line in log.read_text().splitlines() if "ALERT: all sending is paused" in line]
    assert len(alerts) == 1 and "wrong-s3cret" not in alerts[0]
    assert audit_details(sessions, "dispatch.failed") == []

    # The engineer fixes the secret, restarts the workers and resumes.
    for proc in workers:
        smtp_cluster.kill(proc)
    smtp_cluster.env["IRO_SMTP_PASSWORD"] = "right-s3cret"
    smtp_cluster.start("worker", "--processes", "1", "--threads", "4")
    resumed = subprocess.run(
        [IRO, "--config", str(smtp_cluster.config), "dispatches", "resume"],
        env=smtp_cluster.env, capture_output=True, text=True, check=True,
    )
    assert "sending resumed" in resumed.stdout and "100 queued" in resumed.stdout

    smtp_server.wait_for(100, timeout=60)
    wait_until(lambda: states(sessions) == Counter(sent=100), 30, "the store to record each send")
    assert_each_once([str(m["X-IRO-Dispatch"]) for m in smtp_server.messages], 100)
    assert len(audit_details(sessions, "sending.paused")) == 1
