"""A worker's LibreOffice frozen in the middle of a batch, with every real part: PostgreSQL,
Redis, an SMTP server, `iro worker` processes and the scheduler.

One worker's LibreOffice is stopped (SIGSTOP) for longer than a message's time limit, as a hung
one would be, then let go (SIGCONT). Every letter must reach the SMTP server exactly once and
none may fail: a conversion that outlives the time limit must neither poison the process's
converter (the next reply taken for the previous document's) nor fail a letter that a healthy
LibreOffice can convert.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import office_using
from fakes.smtp import SmtpServer
from sqlalchemy import func, select
from test_crash import wait_until
from test_queue_dispatching import make_letters
from test_queue_ratelimit import start_cluster, stop_cluster

from workers.store.models import Dispatch
from workers.store.session import open_store

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.libreoffice,
              pytest.mark.slow]

LETTERS = int(os.environ.get("IRO_TEST_FREEZE_BATCH", "60"))
LEASE = 10  # IRO_SCHEDULER_RECONCILE_AFTER_SECONDS in start_cluster: a time limit of 8 s
FROZEN_FOR = 14.0  # longer than the time limit, shorter than a conversion's own deadline


def states(url: str) -> dict[str, int]:
    with open_store(url)() as session:
        return dict(session.execute(
            select(Dispatch.state, func.count()).group_by(Dispatch.state)).all())


def test_a_frozen_libreoffice_mid_batch_fails_no_letter_and_sends_each_once(
    tmp_path: Path, pg_database: str, redis_url: str, smtp_server: SmtpServer, soffice: str
) -> None:
    cluster = start_cluster(
        tmp_path, pg_database, redis_url, IRO_TRANSPORT="smtp",
        IRO_SMTP_HOST=smtp_server.host, IRO_SMTP_PORT=str(smtp_server.port),
        IRO_SCHEDULER_RECONCILE_AFTER_SECONDS=str(LEASE),
    )
    url = cluster.env["IRO_DATABASE_URL"]
    folders = [tmp_path / "first", tmp_path / "second"]
    try:
        make_letters(open_store(url), LETTERS, state="pending", params={"pdf": True})
        for folder in folders:  # each worker's LibreOffice under a folder of its own
            folder.mkdir()
            cluster.env.update(TMPDIR=str(folder), IRO_RUNTIME_DIR=str(folder))
            cluster.start("worker", "--processes", "1", "--threads", "4")
        cluster.start("scheduler")

        wait_until(lambda: len(smtp_server.received) >= 10 and office_using(folders[0]), 120,
                   "the batch to start")
        frozen = office_using(folders[0])
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        assert len(smtp_server.received) < LETTERS, "the freeze must land mid-batch"
        time.sleep(FROZEN_FOR)
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):  # restarted by its converter
                os.kill(pid, signal.SIGCONT)

        wait_until(lambda: states(url).get("sent", 0) + states(url).get("failed", 0) >= LETTERS,
                   240, "every letter to be sent or failed")
        time.sleep(2)  # let a late duplicate arrive before counting
        by_key = Counter(str(m["X-IRO-Dispatch"]) for m in smtp_server.messages)
        print(f"\nfrozen LibreOffice: {LETTERS} letters, states {states(url)}, "
              f"{len(smtp_server.received)} messages at the server")
        assert states(url) == {"sent": LETTERS}, "a letter failed, or is still unsent"
        assert len(by_key) == LETTERS and set(by_key.values()) == {1}
        names = [a.get_filename() for m in smtp_server.messages for a in m.iter_attachments()]
        assert len(names) == LETTERS and all(str(n).endswith(".pdf") for n in names)
    finally:
        for folder in folders:
            for pid in office_using(folder):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
        stop_cluster(cluster)
