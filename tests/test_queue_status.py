"""`iro dispatches status`: the pause flag, the mail server's back-off, dispatches by state, the
periodic jobs' last runs and the queues, with exit codes a monitoring script can act on (0 well,
3 paused, 4 needs a person)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
import redis
from conftest import REDIS_URL
from factories import sqlite_store, sqlite_url
from mailout_support import CONFIG
from sqlalchemy.orm import Session, sessionmaker
from test_config_cli import run_iro
from test_queue_dispatching import make_letters

from workers.core.clock import SYSTEM_CLOCK
from workers.mail import pause
from workers.mail.backoff import RedisBackoff
from workers.queue.loops import record_run
from workers.store.models import Dispatch


def status(tmp_path: Path, **env: str) -> tuple[int, dict[str, object]]:
    done = run_iro(tmp_path, "dispatches", "status", "--json",
                   IRO_DATABASE_URL=sqlite_url(tmp_path), IRO_CONFIG_DIR=str(CONFIG), **env)
    assert done.returncode in (0, 3, 4), done.stderr
    return done.returncode, json.loads(done.stdout)


# every periodic job of the installed service (the status lists them all)
JOBS = ("enqueue_due", "escalation_timers", "mailouts_due", "midway_checks", "next_review_refresh",
        "reconcile", "record_replies_expiry", "returns_inbox", "writeup_notices")


def every_job_ran(sessions: sessionmaker[Session], ago: dt.timedelta = dt.timedelta(0),
                  **errors: str) -> None:
    """As a running scheduler leaves it: each job's last run ``ago`` (the `iro` subprocess
    reads the machine's clock, so these are relative to it)."""
    with sessions() as session:
        for job in JOBS:
            record_run(session, job, SYSTEM_CLOCK.now() - ago, errors.get(job))
        session.commit()


def set_state(sessions: sessionmaker[Session], dispatch_id: int, state: str) -> None:
    with sessions() as session:
        session.get(Dispatch, dispatch_id).state = state  # type: ignore[union-attr]
        session.commit()


def test_status_says_what_needs_a_person(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    sent, failed = make_letters(sessions, 2)
    set_state(sessions, sent, "sent")

    code, report = status(tmp_path)
    assert [j["job"] for j in report["jobs"]] == list(JOBS)  # type: ignore[union-attr,index]
    assert code == 4  # no scheduler has ever run
    problems = report["problems"]
    assert isinstance(problems, list) and any("enqueue_due never ran" in p for p in problems)

    every_job_ran(sessions)
    code, report = status(tmp_path)
    assert (code, report["problems"], report["paused"]) == (0, [], None)
    assert report["dispatches"] == {"queued": 1, "sent": 1}
    assert report["queue"] is None and report["backoff_seconds"] is None  # in-process

    set_state(sessions, failed, "bounced")
    code, report = status(tmp_path)
    assert code == 4 and report["problems"] == [
        "1 bounced dispatches: see `iro dispatches --failed`"]
    set_state(sessions, failed, "failed")
    assert status(tmp_path)[0] == 4
    set_state(sessions, failed, "sent")
    assert status(tmp_path)[0] == 0

    with sessions() as session:
        pause.pause(session, f"SMTP login refused (test {uuid.uuid4().hex[:4]})")
        session.commit()
    code, report = status(tmp_path)
    assert code == 3 and "login refused" in report["paused"]["reason"]  # type: ignore[index]


def test_a_stopped_or_failing_loop_is_reported(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    every_job_ran(sessions, ago=dt.timedelta(minutes=5))
    code, report = status(tmp_path)
    # the 10-second jobs are stale after 5 minutes; the hourly ones are not
    stale = {j["job"] for j in report["jobs"] if j["stale"]}  # type: ignore[union-attr,index]
    assert code == 4 and stale == {"enqueue_due", "reconcile"}
    text = run_iro(tmp_path, "dispatches", "status", IRO_DATABASE_URL=sqlite_url(tmp_path),
                   IRO_CONFIG_DIR=str(CONFIG))
    words = " ".join(text.stdout.split())
    assert text.returncode == 4 and "STALE" in words and "enqueue_due last ran 30" in words

    every_job_ran(sessions, returns_inbox="ConnectionRefusedError")
    code, report = status(tmp_path)
    assert code == 4 and report["problems"] == [
        "periodic job returns_inbox failed on its last run (ConnectionRefusedError): "
        "see the scheduler's log"]


@pytest.mark.redis
def test_the_queue_its_workers_and_the_mail_servers_back_off(tmp_path: Path) -> None:
    # a database of its own on the tests' Redis server, never flushed: `iro` reads the
    # namespace's counts only
    redis_url = REDIS_URL.rsplit("/", 1)[0] + "/10"
    sessions = sqlite_store(tmp_path)
    every_job_ran(sessions)
    code, report = status(tmp_path, IRO_REDIS_URL=redis_url)
    queue = report["queue"]
    assert isinstance(queue, dict)
    assert set(queue) == {"waiting", "urgent", "retrying", "dead_letters", "live_workers"}
    assert code == 4 and report["problems"] == [
        "no live `iro worker` on the queue: start the workers"]
    assert report["backoff_seconds"] == 0

    # Exchange told a worker to wait: every worker waits, and the engineer sees for how long
    backoff = RedisBackoff(redis.Redis.from_url(redis_url))
    backoff.hold("iro.service@council.example.gov.uk", 300, SYSTEM_CLOCK.now())  # the shipped
    try:
        code, report = status(tmp_path, IRO_REDIS_URL=redis_url)
        assert 200 < report["backoff_seconds"] <= 300  # type: ignore[operator]
        shown = run_iro(tmp_path, "dispatches", "status", IRO_DATABASE_URL=sqlite_url(tmp_path),
                        IRO_REDIS_URL=redis_url, IRO_CONFIG_DIR=str(CONFIG))
        assert "mail server back-off: every worker waits" in shown.stdout
    finally:
        backoff.client.delete("iro:backoff:iro.service@council.example.gov.uk")
