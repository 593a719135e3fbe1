"""A PostgreSQL and a Redis of a test's own (tests/test_outage.py).

The shared servers on 127.0.0.1 belong to every test session on the machine: stopping the shared
PostgreSQL would fail theirs, and on the shared Redis another session's crash test flushes the
database and runs workers that take this test's messages, which spoils a count of duplicates.

PostgreSQL: ``initdb`` makes a cluster in a temporary folder and ``pg_ctl`` runs it on a free
loopback port. It refuses to run as root: as root, the cluster belongs to the ``postgres`` user
and every command runs through ``runuser``. Redis: ``redis-server`` on a free port, no
persistence.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import missing_service
from fakes.smtp import free_port

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)  # newest first


@dataclass
class OwnPostgres:
    bin_dir: Path
    folder: Path
    port: int
    owner: str | None  # run as this user (we are root), else as ourselves

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/iro"

    def run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
                   "-c fsync=off -c max_connections=200")
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                 str(self.folder / "server.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: as `pg_ctlcluster stop` and a service restart do (clients disconnected)."""
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")


def _owner() -> str | None:
    if os.geteuid() != 0:
        return None
    if shutil.which("runuser") is None:
        missing_service("running as root without runuser: cannot start a PostgreSQL of our own")
    return "postgres"


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A running PostgreSQL with an empty database ``iro``; stopped and removed afterwards."""
    if not BIN_DIRS or not (BIN_DIRS[0] / "initdb").exists():
        missing_service("PostgreSQL's initdb is not installed (/usr/lib/postgresql/*/bin)")
    owner = _owner()
    folder = Path(tempfile.mkdtemp(prefix="iro-own-pg-"))
    if owner:
        shutil.chown(folder, owner, owner)
    pg = OwnPostgres(BIN_DIRS[0], folder, free_port(), owner)
    try:
        pg.run("initdb", "-D", str(pg.data), "-A", "trust", "-U", "postgres", "--no-sync")
        pg.start()
        pg.run("createdb", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "iro")
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        missing_service(f"cannot start a PostgreSQL of our own: {exc} {detail.decode()[-300:]}")
    try:
        yield pg
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            pg.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_redis() -> Iterator[str]:
    """The URL of a running Redis nobody else uses; stopped afterwards."""
    import redis

    server = shutil.which("redis-server")
    if server is None:
        missing_service("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        for _ in range(100):
            with contextlib.suppress(redis.exceptions.ConnectionError):
                client.ping()
                break
            time.sleep(0.05)
        else:
            missing_service(f"redis-server did not start on port {port}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
