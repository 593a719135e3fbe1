"""Shared fixtures: the real services this machine runs, and a rule for when one is missing.

A missing service skips the test locally and fails it in CI (``CI`` set), as dramatiq does:
a green CI run must mean the real parts were exercised.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["fakes.smtp", "fakes.ews_server", "fakes.graph_server",  # tests/fakes/
                  "casework_support"]  # the casework tests' case and send fixtures

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
PG_ADMIN_URL = os.environ.get("IRO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("IRO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def office_using(folder: Path) -> list[int]:
    """LibreOffice processes whose profile lives under ``folder`` (from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue
        if b"soffice" in text and str(folder).encode() in text:
            found.append(int(cmdline.parent.name))
    return found


def missing_service(reason: str) -> None:
    """Skip locally; fail under CI, where every real part must be present."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; dropped afterwards."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        missing_service("psycopg is not installed")
    name = f"iro_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing_service(f"PostgreSQL is not reachable at {admin}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    try:
        import redis
    except ImportError:  # pragma: no cover
        missing_service("redis-py is not installed")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        missing_service(f"Redis is not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    return REDIS_URL


@pytest.fixture
def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if not path:
        missing_service("LibreOffice (soffice) is not installed; `make system-deps` installs it")
    return str(path)


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped config folder, for tests that break it on purpose."""
    dest = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, dest)
    return dest


@pytest.fixture(scope="session", autouse=True)
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The suite's runtime directory (``runtime_dir``: LibreOffice's profiles and the documents
    it converts), for this process and every `iro` it starts: never the repository's var/run."""
    folder = tmp_path_factory.mktemp("run")
    before = os.environ.get("IRO_RUNTIME_DIR")
    os.environ["IRO_RUNTIME_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("IRO_RUNTIME_DIR", None)
    else:
        os.environ["IRO_RUNTIME_DIR"] = before


@pytest.fixture(autouse=True)
def _isolated_registries() -> Iterator[None]:
    """Composers and scheduler jobs are per-process registries: a test that installs some must
    not change what the next test runs (order-dependent failures otherwise)."""
    from workers.queue import compose, scheduler

    jobs, composers = dict(scheduler._JOBS), dict(compose._COMPOSERS)
    yield
    scheduler._JOBS.clear()
    scheduler._JOBS.update(jobs)
    compose._COMPOSERS.clear()
    compose._COMPOSERS.update(composers)


def pytest_report_header() -> str:
    """The day the service's clock says it is (scripts/shifted-suite moves it)."""
    from workers.core.clock import SYSTEM_CLOCK

    return f"today in London, by the service's clock: {SYSTEM_CLOCK.today():%a %d %b %Y}"
