"""Loops that outlive their dependencies: told once, backed off, carried on.

The outages are real — SQLite held by another connection (``database is locked``), a port where
no PostgreSQL or Redis listens — and the loops are the real ones: the actor the worker threads
run, and `iro web --with-worker`'s embedded sender (scheduler thread and worker threads).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from conftest import CONFIG_DIR, ROOT
from factories import postgres_store, sqlite_url
from fakes.smtp import free_port
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from test_crash import wait_until
from test_queue_dispatching import MAILBOX, dispatcher, make_letters

from workers.cli.context import AppContext
from workers.cli.web import start_sender
from workers.errors import ServiceUnavailableError
from workers.mail.outbox import OutboxConfig, OutboxTransport
from workers.queue import actors, outage
from workers.queue.outage import DATABASE, REDIS, Outage, dependency_of
from workers.store import session as store_session
from workers.store.models import AuditEvent, Dispatch
from workers.store.session import open_store, upgrade


@pytest.fixture(autouse=True)
def fresh_outages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no outage known to this process."""
    monkeypatch.setattr(outage, "_outages", {})
    monkeypatch.setattr(store_session, "SQLITE_BUSY_TIMEOUT_MS", 200)  # locked fails fast


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "workers.queue.outage"]


def test_an_outage_is_told_once_then_once_a_minute_then_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    db = Outage(DATABASE, monotonic=clock)
    refused = ConnectionRefusedError("connection refused")

    for step in range(600):  # 16 threads failing for a minute say it once
        clock.now = step * 0.1
        assert 0.75 <= db.failed(refused) <= 12.5
    clock.now = 61.0
    db.failed(refused)
    clock.now = 90.0
    db.failed(refused)
    clock.now = 95.0
    db.recovered()
    db.recovered()

    assert lines(caplog) == [
        "database unavailable (ConnectionRefusedError: connection refused); carrying on, "
        "trying again with back-off; told once a minute while it lasts",
        "database still unavailable after 61 s (601 failures): "
        "ConnectionRefusedError: connection refused",
        "database available again after 95 s (602 failures)",
    ]
    assert all(r.exc_info is None for r in caplog.records), "an outage is not a traceback"


def test_a_dependency_that_comes_and_goes_writes_at_most_two_lines_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    redis_outage = Outage(REDIS, monotonic=clock)
    for second in range(0, 120, 5):  # down, up, down, up… every 5 s for two minutes
        clock.now = float(second)
        redis_outage.failed(ConnectionError("reset"))
        clock.now += 1
        redis_outage.recovered()
    assert len(lines(caplog)) <= 4


def test_the_waits_grow_with_the_outage_up_to_ten_seconds() -> None:
    clock = Clock()
    db = Outage(DATABASE, monotonic=clock)
    first = db.failed(ConnectionRefusedError())
    clock.now = 600.0
    assert 0.75 <= first <= 1.25
    assert 7.5 <= db.failed(ConnectionRefusedError()) <= 12.5


def test_what_counts_as_an_outage(tmp_path: Path) -> None:
    port = free_port()
    with pytest.raises(Exception) as refused_pg:
        create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/x").connect()
    with pytest.raises(Exception) as refused_redis:
        redis.Redis(host="127.0.0.1", port=port).ping()
    with pytest.raises(ServiceUnavailableError) as store_down:
        open_store(f"postgresql+psycopg://postgres@127.0.0.1:{port}/x")
    with pytest.raises(ServiceUnavailableError) as queue_down:
        from workers.queue.broker import make_redis_broker

        make_redis_broker(f"redis://127.0.0.1:{port}/0")

    assert dependency_of(refused_pg.value) == DATABASE
    assert dependency_of(refused_redis.value) == REDIS
    assert dependency_of(store_down.value) == DATABASE
    assert dependency_of(queue_down.value) == REDIS
    assert dependency_of(ValueError("a bug")) is None


@pytest.mark.postgres
def test_a_database_left_read_only_by_a_failover_is_an_outage(pg_database: str) -> None:
    sessions = postgres_store(pg_database)
    with sessions() as session, pytest.raises(DBAPIError) as read_only:
        session.execute(text("SET TRANSACTION READ ONLY"))  # as a demoted primary answers
        session.execute(update(Dispatch).values(state="queued"))
    assert dependency_of(read_only.value) == DATABASE


@pytest.fixture
def locked_store(tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], Path]]:
    url = sqlite_url(tmp_path)
    upgrade(url)
    yield open_store(url), tmp_path / "store" / "iro.sqlite3"


def hold_lock(path: Path) -> sqlite3.Connection:
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    return lock


def test_a_worker_thread_waits_out_a_locked_database(
    locked_store: tuple[sessionmaker[Session], Path], caplog: pytest.LogCaptureFixture,
) -> None:
    sessions, path = locked_store
    ids = make_letters(sessions, 3)
    outbox = OutboxTransport(OutboxConfig(path.parent / "outbox", MAILBOX))
    actors.use(lambda: dispatcher(sessions, outbox))
    lock = hold_lock(path)
    try:
        for dispatch_id in ids:
            with pytest.raises(actors.Throttled) as waited:  # not a failure that uses a retry
                actors.send_dispatch(dispatch_id)
            assert 750 <= waited.value.delay <= 12_500  # type: ignore[attr-defined]
    finally:
        lock.rollback()
        lock.close()
    actors.send_dispatch(ids[0])  # the lock gone, the letter goes
    assert _count(sessions, "sent") == 1
    told = lines(caplog)
    assert told[0] == ("database unavailable (OperationalError: database is locked); carrying "
                       "on, trying again with back-off; told once a minute while it lasts")
    assert told[1].startswith("database available again after")
    assert told[1].endswith("(3 failures)") and len(told) == 2


def test_the_embedded_sender_rides_out_a_locked_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """`iro web --with-worker`: its scheduler thread died on the first locked tick, and later
    letters stayed "in progress" until a restart."""
    url = sqlite_url(tmp_path)
    for name, value in {
        "IRO_DATABASE_URL": url, "IRO_OUTBOX_DIR": str(tmp_path / "outbox"),
        "IRO_TRANSPORT": "outbox", "IRO_SCHEDULER_TICK_SECONDS": "1",
        "IRO_TEMPLATES_DIR": str(ROOT / "templates_docx"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("IRO_REDIS_URL", raising=False)
    upgrade(url)
    app = AppContext(config_dir=CONFIG_DIR)
    make_letters(app.sessions, 5, state="pending")
    stop = start_sender(app)
    try:
        wait_until(lambda: _count(app.sessions, "sent") == 5, 60, "the first letters")
        lock = hold_lock(Path(url.removeprefix("sqlite:///")))
        time.sleep(3)  # ticks meet "database is locked"
        lock.rollback()
        lock.close()
        make_letters(app.sessions, 5, state="pending")
        wait_until(lambda: _count(app.sessions, "sent") == 10, 60, "letters made after the lock")
        assert any(t.name == "iro-web-scheduler" for t in threading.enumerate())
    finally:
        stop()
    with app.sessions() as session:
        sent_events = session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "dispatch.sent"))
    assert sent_events == 10, "each letter once"
    told = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage()[:20] for r in told] == ["database unavailable"]


def _count(sessions: sessionmaker[Session], state: str) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).where(Dispatch.state == state)) or 0)
