"""A letter the mail server accepted while the database could not record it is never sent again.

The database outage is real: SQLite locked by another connection (with a short busy timeout) the
moment the SMTP server has accepted the letter, so the worker's record of ``sent`` fails. The
worker that takes the dispatch once the lease has lapsed — another process (the journal in
Redis) or another thread of the same one (its memory) — must find the note and record the send.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from factories import sqlite_store
from fakes.smtp import SmtpServer, free_port
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from test_queue_dispatching import MAILBOX, dispatcher, make_letters

from workers.core.clock import SystemClock
from workers.mail.message import OutgoingMessage
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue.dispatching import Dispatcher
from workers.queue.send_journal import MemoryJournal, RedisJournal, SendJournal
from workers.store import session as store_session
from workers.store.models import AuditEvent, Dispatch

T0 = dt.datetime(2027, 6, 15, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    monkeypatch.setattr(store_session, "SQLITE_BUSY_TIMEOUT_MS", 200)  # locked fails fast
    return sqlite_store(tmp_path)


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpTransport]:
    transport = SmtpTransport(SmtpConfig(host=smtp_server.host, port=smtp_server.port,
                                         mailbox=MAILBOX, timeout_seconds=5))
    yield transport
    transport.close()


@dataclass
class LockAfterSend:
    """The real SMTP transport; once the server has accepted, another connection locks the
    store, as a database going down at that moment would."""

    inner: SmtpTransport
    database: Path
    lock: sqlite3.Connection | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def send(self, message: OutgoingMessage) -> str:
        message_id = self.inner.send(message)
        self.lock = sqlite3.connect(self.database, isolation_level=None)
        self.lock.execute("BEGIN EXCLUSIVE")
        return message_id

    def release(self) -> None:
        assert self.lock is not None
        self.lock.execute("ROLLBACK")
        self.lock.close()


def journals(kind: str, redis_url: str) -> tuple[SendJournal, SendJournal]:
    """The first worker's journal and the one the worker taking over sees."""
    if kind == "memory":
        shared = MemoryJournal()  # two threads of one process
        return shared, shared
    client = redis.Redis.from_url(redis_url)
    return RedisJournal(client, "iro:sent:test:"), RedisJournal(client, "iro:sent:test:")


def with_journal(d: Dispatcher, journal: SendJournal, **changes: Any) -> Dispatcher:
    d.journal = journal
    for name, value in changes.items():
        setattr(d, name, value)
    return d


@pytest.mark.redis
@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_send_the_store_could_not_record_is_not_sent_again(
    kind: str, sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer,
    tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    redis_url = request.getfixturevalue("redis_url") if kind == "redis" else ""
    mine, theirs = journals(kind, redis_url)
    locking = LockAfterSend(smtp, tmp_path / "store" / "iro.sqlite3")
    [dispatch_id] = make_letters(sessions, 1)

    first = with_journal(dispatcher(sessions, locking), mine)
    with pytest.raises(OperationalError, match="database is locked"):
        first.process(dispatch_id)
    locking.release()
    assert smtp_server.wait_for(1) and _state(sessions, dispatch_id) == "sending"

    after_lease = SystemClock(dt.timedelta(seconds=first.lease + 1))
    second = with_journal(dispatcher(sessions, smtp), theirs, clock=after_lease)
    outcome = second.process(dispatch_id)

    assert outcome.kind == "recovered"
    assert len(smtp_server.received) == 1, "the letter went once"
    assert _state(sessions, dispatch_id) == "sent"
    assert theirs.find(dispatch_id, sent_at=None) is None, "forgotten once recorded"
    with sessions() as session:
        sent_events = session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "dispatch.sent"))
    assert sent_events == 1


def _state(sessions: sessionmaker[Session], dispatch_id: int) -> str:
    with sessions() as session:
        return str(session.scalar(select(Dispatch.state).where(Dispatch.id == dispatch_id)))


@pytest.mark.redis
@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_note_older_than_the_recorded_send_is_left_over(
    kind: str, request: pytest.FixtureRequest
) -> None:
    """A bounced letter a person retries must not be taken for sent by a note whose forget
    failed after its first send."""
    redis_url = request.getfixturevalue("redis_url") if kind == "redis" else ""
    journal, _ = journals(kind, redis_url)
    journal.note(7, "<a@example>", T0)

    assert journal.find(7, sent_at=None) == "<a@example>"
    assert journal.find(7, sent_at=T0 - dt.timedelta(seconds=1)) == "<a@example>"
    assert journal.find(7, sent_at=T0 + dt.timedelta(seconds=1)) is None
    naive = (T0 + dt.timedelta(seconds=1)).replace(tzinfo=None)  # as SQLite gives it back
    assert journal.find(7, sent_at=naive) is None
    journal.forget(7)
    assert journal.find(7, sent_at=None) is None


def test_redis_down_the_note_stays_in_memory_and_a_lookup_refuses_to_guess() -> None:
    unreachable = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    journal = RedisJournal(unreachable, "iro:sent:test:")

    journal.note(8, "<b@example>", T0)  # no error: the send happened, whatever Redis says
    assert journal.find(8, sent_at=None) == "<b@example>"
    journal.forget(8)
    with pytest.raises(redis.exceptions.ConnectionError):
        journal.find(8, sent_at=None)  # another worker's note may be there: do not send
