"""An `iro worker` that converted PDFs leaves no LibreOffice and no profile folder behind when it
stops: dramatiq's worker processes end with ``os._exit``, where atexit handlers never run."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from conftest import office_using
from fakes.smtp import SmtpServer
from test_crash import wait_until
from test_queue_dispatching import make_letters
from test_queue_ratelimit import start_cluster, stop_cluster

from workers import actors
from workers.broker import make_redis_broker
from workers.store.session import open_store

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_a_stopped_worker_closes_its_libreoffice(
    tmp_path: Path, pg_database: str, redis_url: str, smtp_server: SmtpServer, soffice: str
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    cluster = start_cluster(
        tmp_path, pg_database, redis_url, TMPDIR=str(temp), IRO_TRANSPORT="smtp",
        IRO_SMTP_HOST=smtp_server.host, IRO_SMTP_PORT=str(smtp_server.port),
    )
    try:
        ids = make_letters(open_store(cluster.env["IRO_DATABASE_URL"]), 2, params={"pdf": True})
        worker = cluster.start("worker", "--processes", "1", "--threads", "1")
        actors.enqueue(make_redis_broker(redis_url), ids, lease=30)
        smtp_server.wait_for(2, timeout=120)
        assert all(m.get_content_type() == "multipart/mixed" for m in smtp_server.messages)
        names = [a.get_filename() for m in smtp_server.messages for a in m.iter_attachments()]
        assert names and all(str(n).endswith(".pdf") for n in names)  # LibreOffice did run
        assert office_using(temp) and list(temp.glob("iro-pdf-*"))

        # a graceful stop, as `docker stop` sends it: to the main process, which passes it on to
        # its worker processes (a second SIGTERM to those would make dramatiq kill them at once)
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)

        wait_until(lambda: not office_using(temp) and not list(temp.glob("iro-pdf-*")), 30,
                   "LibreOffice and its profile folder to go with the worker")
    finally:
        stop_cluster(cluster)
