"""benchmarks/pipeline.py runs end to end on a tiny batch, so it cannot rot (no timing asserted:
the figures are the benchmark's to print, docs/performance.md quotes them)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from own_services import own_redis  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench_redis(own_redis: str) -> str:  # noqa: F811 - the fixture imported above
    """A Redis of its own: the benchmark flushes its database, and another test run's workers
    sharing it would take its letters (its live-worker check cannot see them when one of the
    runs has its clock moved by scripts/shifted-suite)."""
    return own_redis


def _run(redis: str, *extra: str, rounds: int = 1) -> list[str]:
    env = {**os.environ, "IRO_BENCH_REDIS": redis}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pipeline.py"), "--letters", "12",
         "--processes", "1", "--threads", "2", "--rounds", str(rounds), *extra],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout.strip().splitlines()


def _check(lines: list[str], mode: str, rounds: int = 1) -> dict[str, str]:
    assert lines[0].startswith(f"letters: {12 * rounds} a side ({rounds} rounds of 12), "
                               "processes: 1, threads: 2")
    assert lines[0].endswith(f"mode: {mode}")
    rates = {line.split(":")[0]: line for line in lines}
    assert float(rates["end to end"].split()[3]) > 0 and float(rates["render-only"].split()[1]) > 0
    assert f"[{mode}]" in rates["end to end"] and f"[{mode}]" in rates["render-only"]
    assert lines[-1].startswith("ratio: ") and float(lines[-1].split()[1]) > 0
    assert len(rates["rounds' ratios"].split(":")[1].split(",")) == rounds
    return rates


def test_docx_kind_delivers_every_letter_and_ends_with_a_ratio(
    pg_database: str, bench_redis: str
) -> None:
    # two rounds: the workers stay up between them, and every round's letters arrive
    _check(_run(bench_redis, "--kind", "docx", rounds=2), "docx", rounds=2)


def _office_lines(rates: dict[str, str]) -> None:
    office = [line for name, line in rates.items() if "LibreOffice" in name]
    assert len(office) == 2  # the render-only processes' and the workers' LibreOffice
    assert all(float(line.rsplit(":", 1)[1].split()[0]) > 0 for line in office)


def test_pdf_kind_converts_every_letter_on_both_sides(
    pg_database: str, bench_redis: str, soffice: str
) -> None:
    # the benchmark exits non-zero when a letter reached the SMTP server without a PDF
    _office_lines(_check(_run(bench_redis, "--kind", "pdf"), "pdf"))


def test_the_default_is_the_mailout_as_production_sends_it(
    pg_database: str, bench_redis: str, soffice: str
) -> None:
    # reviews mailed out by run_mailout; every invitation reached the server with its PDF pack
    lines = _run(bench_redis)
    _office_lines(_check(lines, "mailout"))
    assert "one PDF pack" in lines[1]


def _database_exists(name: str) -> bool:
    import psycopg
    from conftest import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid``, to watch after ``pid`` itself is gone."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from proc_cpu import group

    return set(group(pid)) - {pid}


def _alive(pids: set[int]) -> set[int]:
    from workers.host.runtime_dir import process_start

    return {pid for pid in pids if process_start(pid) is not None}


def test_killed_with_sigkill_it_takes_its_workers_and_libreoffice_along(
    pg_database: str, bench_redis: str, soffice: str, tmp_path: Path
) -> None:
    # `timeout` or a SIGKILL ends the benchmark without its finally blocks; its `iro worker`
    # (in a session of its own) and LibreOffice must not run on, nor its database stay
    from conftest import office_using
    from test_crash import wait_until

    run = tmp_path / "run"
    env = {**os.environ, "IRO_RUNTIME_DIR": str(run),
           "IRO_BENCH_REDIS": bench_redis}
    output = tmp_path / "benchmark.log"
    with output.open("wb") as log:
        bench = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "pipeline.py"), "--kind", "pdf",
             "--letters", "400", "--processes", "1", "--threads", "2", "--rounds", "1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: office_using(run) or bench.poll() is not None, 180,
                   "the benchmark's workers to convert")
        assert bench.poll() is None, output.read_text()[-2000:]
        # LibreOffice first, then the tree: one started in between is in the tree, not the list
        office = set(office_using(run))
        below = _descendants(bench.pid)
        assert below and _alive(office) <= below
        bench.kill()
        bench.wait()
        wait_until(lambda: not _alive(below), 60,
                   "the benchmark's workers and their LibreOffice to go with it")
        wait_until(lambda: not office_using(run), 10, "no LibreOffice left")
        database = output.read_text().split("database: ", 1)[1].split()[0]
        wait_until(lambda: not _database_exists(database), 30, "its database to be dropped")
    finally:
        bench.kill()
        for pid in _alive(_descendants(bench.pid)) | set(office_using(run)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
