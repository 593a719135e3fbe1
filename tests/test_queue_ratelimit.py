"""The per-mailbox rate limit holds across two real `iro worker` processes sharing Redis.

The limit is counted where it matters — at the SMTP server and in the store's ``sent_at`` — not by
timing the test: with 12 a minute and 20 letters, the server holds exactly 12 while the first
window is still open, the rest wait in ``queued`` with no attempt counted, and after the window
every letter arrives once.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import postgres_url
from fakes.smtp import SmtpServer
from sqlalchemy import select
from test_crash import Cluster, wait_until
from test_queue_dispatching import MAILBOX, make_letters

from workers.store.models import Dispatch, utcnow
from workers.store.session import open_store, upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

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
    # In any window (less a margin for the send itself), no more than the limit went.
    times = sorted(r.sent_at for r in final if r.sent_at is not None)
    margin = dt.timedelta(seconds=5)
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t - start < WINDOW - margin]
        assert len(in_window) <= LIMIT, f"{len(in_window)} sent within a window from {start}"
