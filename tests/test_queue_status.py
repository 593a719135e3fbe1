"""`iro dispatches status`: the pause flag, the mail server's back-off, dispatches by state and the
queues, with exit codes a monitoring script can act on (0 well, 3 paused, 4 failures)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
import redis
from factories import sqlite_store, sqlite_url
from test_config_cli import run_iro
from test_queue_dispatching import make_letters

from workers.mail import pause
from workers.mail.backoff import RedisBackoff
from workers.store.models import Dispatch

pytestmark = pytest.mark.redis


def status(tmp_path: Path, redis_url: str) -> tuple[int, dict[str, object]]:
    done = run_iro(tmp_path, "dispatches", "status", "--json",
                   IRO_DATABASE_URL=sqlite_url(tmp_path), IRO_REDIS_URL=redis_url)
    assert done.returncode in (0, 3, 4), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_status_says_what_needs_a_person(tmp_path: Path) -> None:
    # a database of its own (not the shared db 15), never flushed: `iro` uses the namespace iro,
    # and nothing is enqueued here, so only the counts are read
    redis_url = "redis://127.0.0.1:6379/12"
    sessions = sqlite_store(tmp_path)
    sent, failed = make_letters(sessions, 2)
    with sessions() as session:
        session.get(Dispatch, sent).state = "sent"  # type: ignore[union-attr]
        session.commit()

    code, report = status(tmp_path, redis_url)
    assert code == 0 and report["paused"] is None
    assert report["dispatches"] == {"queued": 1, "sent": 1}
    queue = report["queue"]
    assert isinstance(queue, dict)
    assert set(queue) == {"waiting", "urgent", "retrying", "dead_letters", "live_workers"}
    assert report["backoff_seconds"] == 0

    # Exchange told a worker to wait: every worker waits, and the engineer sees for how long
    now = dt.datetime.now(dt.UTC)
    backoff = RedisBackoff(redis.Redis.from_url(redis_url))
    backoff.hold("iro.service@council.example.gov.uk", 300, now)  # the shipped mailbox
    try:
        code, report = status(tmp_path, redis_url)
        assert code == 0 and 200 < report["backoff_seconds"] <= 300  # type: ignore[operator]
        shown = run_iro(tmp_path, "dispatches", "status", IRO_DATABASE_URL=sqlite_url(tmp_path),
                        IRO_REDIS_URL=redis_url)
        assert "mail server back-off: every worker waits" in shown.stdout
    finally:
        backoff.client.delete("iro:backoff:iro.service@council.example.gov.uk")

    with sessions() as session:
        session.get(Dispatch, failed).state = "failed"  # type: ignore[union-attr]
        session.commit()
    assert status(tmp_path, redis_url)[0] == 4

    with sessions() as session:
        pause.pause(session, f"SMTP login refused (test {uuid.uuid4().hex[:4]})")
        session.commit()
    code, report = status(tmp_path, redis_url)
    assert code == 3 and "login refused" in report["paused"]["reason"]  # type: ignore[index]
