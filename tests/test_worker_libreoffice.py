"""Stopping `iro worker` and cleaning up after it, with real worker processes and LibreOffice.

- SIGTERM to the main process (what `docker stop` sends) stops it within the 10 s docker allows,
  idle or with its LibreOffice hung in the middle of a letter, and leaves no LibreOffice and no
  folder behind (dramatiq's worker processes end with ``os._exit``: atexit never runs there).
- A worker killed outright (SIGKILL) leaves its folder, with its last letter in it; the next
  worker to start on the same runtime directory removes it.
- When the main process alone is killed, its worker processes stop as if it had sent SIGTERM;
  a SIGTERM to every process of the group stops them gracefully too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from conftest import office_using
from fakes.smtp import SmtpServer
from test_crash import Cluster, wait_until
from test_queue_dispatching import make_letters
from test_queue_ratelimit import start_cluster, stop_cluster

from workers.queue import actors
from workers.queue.broker import make_redis_broker
from workers.store.session import open_store

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

DOCKER_STOP_GRACE = 10.0  # seconds between `docker stop`'s SIGTERM and its SIGKILL


@pytest.fixture
def cluster(tmp_path: Path, pg_database: str, redis_url: str,
            smtp_server: SmtpServer) -> Iterator[Cluster]:
    """`iro` processes with a runtime directory (``run``) and a system temporary folder
    (``tmp``) of their own, sending to the SMTP server."""
    run, temp = tmp_path / "run", tmp_path / "tmp"
    run.mkdir()
    temp.mkdir()
    made = start_cluster(tmp_path, pg_database, redis_url, TMPDIR=str(temp),
                         IRO_RUNTIME_DIR=str(run), IRO_TRANSPORT="smtp",
                         IRO_SMTP_HOST=smtp_server.host, IRO_SMTP_PORT=str(smtp_server.port))
    try:
        yield made
    finally:
        for pid in office_using(run):  # a LibreOffice left stopped by a failed test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        stop_cluster(made)


def _converting(cluster: Cluster, smtp: SmtpServer, redis_url: str, processes: int = 1
                ) -> subprocess.Popen[bytes]:
    """An `iro worker` (2 threads a process) that has sent two letters a process as PDFs."""
    worker = cluster.start("worker", "--processes", str(processes), "--threads", "2")
    _send(cluster, smtp, redis_url, 2 * processes)
    return worker


def _send(cluster: Cluster, smtp: SmtpServer, redis_url: str, count: int) -> None:
    """``count`` letters with a PDF, through the running worker, to the SMTP server."""
    before = len(smtp.received)
    ids = make_letters(open_store(cluster.env["IRO_DATABASE_URL"]), count, params={"pdf": True})
    actors.enqueue(make_redis_broker(redis_url), ids, lease=30)
    smtp.wait_for(before + count, timeout=120)
    names = [a.get_filename() for m in smtp.messages[before:] for a in m.iter_attachments()]
    assert names and all(str(n).endswith(".pdf") for n in names)  # LibreOffice did run


def _stopped_in(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> float:
    started = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(DOCKER_STOP_GRACE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`iro worker` still ran {DOCKER_STOP_GRACE:g} s after SIGTERM: docker "
                    "would have killed it, leaving its LibreOffice and folder")
    return time.monotonic() - started


def _live_workers(redis_url: str) -> int:
    beats = redis.Redis.from_url(redis_url).zrangebyscore(
        "iro:__heartbeats__", (time.time() - 5) * 1000, "+inf")
    return len(beats)


def test_an_idle_worker_stops_on_sigterm_in_time(cluster: Cluster, redis_url: str) -> None:
    worker = cluster.start("worker", "--processes", "2", "--threads", "4")
    wait_until(lambda: _live_workers(redis_url) == 2, 60, "both worker processes")
    took = _stopped_in(worker)
    print(f"\nidle `iro worker --processes 2`: stopped {took:.1f} s after SIGTERM")
    assert worker.returncode == 0


@pytest.mark.parametrize("hung", [False, True], ids=["converting", "libreoffice-hung"])
def test_a_stopped_worker_closes_its_libreoffice_and_folder(
    cluster: Cluster, tmp_path: Path, redis_url: str, smtp_server: SmtpServer, soffice: str,
    hung: bool,
) -> None:
    run, temp = tmp_path / "run", tmp_path / "tmp"
    worker = _converting(cluster, smtp_server, redis_url)
    assert office_using(run) and len(list(run.iterdir())) == 1  # the worker process's
    if hung:  # a letter in hand waits for a LibreOffice that will not answer
        for pid in office_using(run):
            os.kill(pid, signal.SIGSTOP)
        ids = make_letters(open_store(cluster.env["IRO_DATABASE_URL"]), 2, params={"pdf": True})
        actors.enqueue(make_redis_broker(redis_url), ids, lease=30)
        time.sleep(1)

    # a graceful stop, as `docker stop` sends it: to the main process, which passes it on to
    # its worker processes (a second SIGTERM to those would make dramatiq kill them at once)
    took = _stopped_in(worker)
    print(f"\n`iro worker` ({'hung' if hung else 'converting'} LibreOffice): stopped "
          f"{took:.1f} s after SIGTERM")
    wait_until(lambda: not office_using(run), 30, "LibreOffice to go with the worker")
    assert not list(run.iterdir()), "the worker process's folder outlived it"
    assert not list(temp.iterdir()), "something was left in the system temporary folder"


def test_a_killed_workers_folder_goes_when_the_next_worker_starts(
    cluster: Cluster, tmp_path: Path, redis_url: str, smtp_server: SmtpServer, soffice: str
) -> None:
    run = tmp_path / "run"
    killed = _converting(cluster, smtp_server, redis_url)
    [left] = list(run.iterdir())
    assert (left.stat().st_mode & 0o777) == 0o700
    cluster.kill(killed)  # SIGKILL to its process group: no clean-up can run
    wait_until(lambda: not office_using(run), 30, "LibreOffice to die with its group")
    assert left.exists(), "a SIGKILL leaves the folder: the next start must remove it"

    cluster.start("worker", "--processes", "1", "--threads", "2")
    wait_until(lambda: not left.exists(), 60, "the next worker to remove the folder")
    _send(cluster, smtp_server, redis_url, 1)
    assert list(run.iterdir()) != [left]


def test_worker_processes_stop_when_their_main_process_is_killed(
    cluster: Cluster, tmp_path: Path, redis_url: str, smtp_server: SmtpServer, soffice: str
) -> None:
    run = tmp_path / "run"
    main = _converting(cluster, smtp_server, redis_url, processes=2)
    assert office_using(run)
    main.send_signal(signal.SIGKILL)  # the main process only, not its group
    main.wait()
    wait_until(lambda: _live_workers(redis_url) == 0 and not office_using(run), 60,
               "the orphaned worker processes to stop and close their LibreOffice")
    wait_until(lambda: not list(run.iterdir()), 10, "their folders to go with them")


def test_sigterm_to_the_whole_group_stops_it_gracefully_too(
    cluster: Cluster, tmp_path: Path, redis_url: str, smtp_server: SmtpServer, soffice: str
) -> None:
    # systemd's KillMode=mixed (or `kill -TERM -- -PGID`): each worker process gets a SIGTERM
    # of its own and another passed on by the main process; dramatiq would take the second as
    # "kill at once", skipping the clean-up
    run = tmp_path / "run"
    worker = _converting(cluster, smtp_server, redis_url, processes=2)
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(DOCKER_STOP_GRACE)
    wait_until(lambda: not office_using(run), 30, "LibreOffice to go with the worker")
    assert not list(run.iterdir()), "a worker process was killed before it could clear up"
