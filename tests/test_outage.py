"""PostgreSQL stopped in the middle of a batch: no letter lost, none delivered twice.

Two `iro worker`s (2 processes, 4 threads each, as docker/compose.yaml runs them) and an
`iro scheduler` send a batch through an SMTP server that takes 50 ms over each message, on a
PostgreSQL and a Redis of the test's own (tests/own_services.py); the test stops PostgreSQL for
``IRO_TEST_OUTAGE_SECONDS`` (20 by default) once the batch is under way. Letters handed to the
SMTP server just before the stop cannot be recorded as sent until the database is back: every
letter must reach the server exactly once all the same (counted by dispatch key at the server),
the scheduler must still be running and sending afterwards, and the store must record every send.
The second test also SIGKILLs one worker while the database is down.

Measure with ``IRO_TEST_OUTAGE_SECONDS=60 IRO_TEST_CRASH_BATCH=1000 .venv/bin/pytest -q -s
tests/test_outage.py``; the figures are printed.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.smtp import SmtpServer
from own_services import OwnPostgres, own_postgres, own_redis  # noqa: F401 - fixtures
from test_crash import (  # noqa: F401 - fixtures
    BATCH,
    RECOVERY_LIMIT,
    WORKER,
    Cluster,
    Delivered,
    running_cluster,
    slow_smtp,
    wait_until,
)
from test_queue_dispatching import make_letters

from workers.store.models import AuditEvent, Dispatch
from workers.store.session import open_store, upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

OUTAGE_SECONDS = float(os.environ.get("IRO_TEST_OUTAGE_SECONDS", "20"))
AFTER = 20  # letters made after the outage: the scheduler must still send


@pytest.fixture
def outage_cluster(
    tmp_path: Path, own_postgres: OwnPostgres, own_redis: str,  # noqa: F811
    slow_smtp: SmtpServer,  # noqa: F811
) -> Iterator[Cluster]:
    upgrade(own_postgres.url)
    yield from running_cluster(tmp_path, own_postgres.url, own_redis, slow_smtp)


def _stop_mid_batch(pg: OwnPostgres, smtp: SmtpServer, cluster: Cluster) -> tuple[int, int]:
    """Returns the first worker's pid and how many letters had arrived when it stopped."""
    make_letters(open_store(pg.url), BATCH, state="pending")
    victim = cluster.start(*WORKER)
    cluster.start(*WORKER)
    cluster.start("scheduler")
    wait_until(lambda: len(smtp.received) >= 40, 60, "the batch to start")
    pg.stop()
    stopped_with = len(smtp.received)
    assert stopped_with < BATCH, "the stop must land mid-batch"
    return victim.pid, stopped_with


def _after_restart(
    pg: OwnPostgres, smtp: SmtpServer, cluster: Cluster, label: str, stopped_with: int
) -> None:
    restarted_at, restarted_with = time.monotonic(), len(smtp.received)
    delivered = Delivered(smtp)
    wait_until(lambda: delivered.distinct() >= BATCH, RECOVERY_LIMIT,
               f"{BATCH} letters after PostgreSQL came back")
    recovered_in = time.monotonic() - restarted_at
    time.sleep(3)  # let any late duplicate arrive before counting

    by_key = Counter(str(m["X-IRO-Dispatch"]) for m in smtp.messages)
    twice = sum(1 for n in by_key.values() if n > 1)
    scheduler = cluster.procs[-1]
    print(f"\n{label}: {BATCH} letters, PostgreSQL stopped {OUTAGE_SECONDS:.0f} s with "
          f"{stopped_with} delivered ({restarted_with} when it came back); all delivered "
          f"{recovered_in:.1f} s after it came back; {twice} delivered twice; scheduler "
          f"{'running' if scheduler.poll() is None else f'exited {scheduler.poll()}'}; "
          f"{_log_lines(cluster)} lines logged")
    assert twice == 0, _history(pg, [k for k, n in by_key.items() if n > 1])
    assert scheduler.poll() is None, "the scheduler must ride out the outage"

    make_letters(open_store(pg.url), AFTER, state="pending")
    wait_until(lambda: delivered.distinct() >= BATCH + AFTER, RECOVERY_LIMIT,
               "letters made after the outage")
    assert len(smtp.messages) == BATCH + AFTER, "each letter exactly once"
    sessions = open_store(pg.url)
    wait_until(lambda: _sent(sessions) == BATCH + AFTER, 30, "the store to record every send")
    assert scheduler.poll() is None
    for log in cluster.logs.glob("*.log"):
        # an outage is told once and then once a minute, not as a traceback a letter
        assert len(re.findall(rb"Traceback", log.read_bytes())) <= 2, log.name


def _history(pg: OwnPostgres, keys: list[str]) -> str:
    """What the store knows of the letters delivered twice, for the failure message."""
    from sqlalchemy import select

    with open_store(pg.url)() as session:
        lines = []
        for d in session.scalars(select(Dispatch).where(Dispatch.key.in_(keys))):
            events = session.scalars(select(AuditEvent).where(
                AuditEvent.subject_type == "dispatch", AuditEvent.subject_id == d.id)
                .order_by(AuditEvent.id))
            lines.append(f"dispatch {d.id}: {d.state}, {d.attempts} attempts, claimed "
                         f"{d.claimed_at}, sent {d.sent_at}; "
                         + ", ".join(f"{e.at:%H:%M:%S.%f} {e.action} {e.details}" for e in events))
    return f"{len(keys)} letters delivered twice:\n" + "\n".join(lines)


def _sent(sessions: object) -> int:
    from sqlalchemy import func, select

    with sessions() as session:  # type: ignore[operator]
        return int(session.scalar(select(func.count()).where(Dispatch.state == "sent")) or 0)


def _log_lines(cluster: Cluster) -> int:
    return sum(len(log.read_bytes().splitlines()) for log in cluster.logs.glob("*.log"))


def test_postgres_stopped_mid_batch(
    outage_cluster: Cluster, own_postgres: OwnPostgres, slow_smtp: SmtpServer,  # noqa: F811
) -> None:
    _, stopped_with = _stop_mid_batch(own_postgres, slow_smtp, outage_cluster)
    time.sleep(OUTAGE_SECONDS)
    own_postgres.start()
    _after_restart(own_postgres, slow_smtp, outage_cluster, "PostgreSQL stop", stopped_with)


def test_worker_killed_while_postgres_is_down(
    outage_cluster: Cluster, own_postgres: OwnPostgres, slow_smtp: SmtpServer,  # noqa: F811
) -> None:
    """The worker that handed letters to the server before the stop dies before it can record
    them: whoever takes those letters next must know they went."""
    victim, stopped_with = _stop_mid_batch(own_postgres, slow_smtp, outage_cluster)
    time.sleep(min(3.0, OUTAGE_SECONDS / 2))  # its sends have ended; the records have failed
    outage_cluster.kill(next(p for p in outage_cluster.procs if p.pid == victim))
    time.sleep(max(0.0, OUTAGE_SECONDS - 3.0))
    own_postgres.start()
    _after_restart(own_postgres, slow_smtp, outage_cluster, "PostgreSQL stop, worker killed",
                   stopped_with)
