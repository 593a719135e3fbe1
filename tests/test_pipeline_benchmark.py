"""benchmarks/pipeline.py runs end to end on a tiny batch, so it cannot rot (no timing asserted:
the figures are the benchmark's to print, README.md quotes them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def test_pipeline_benchmark_delivers_every_letter_and_ends_with_a_ratio(
    pg_database: str, redis_url: str
) -> None:
    # its own Redis database: the benchmark flushes it, and test sessions share db 15
    env = {**os.environ, "IRO_BENCH_REDIS": os.environ.get("IRO_TEST_BENCH_REDIS_URL",
                                                           "redis://127.0.0.1:6379/11")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pipeline.py"), "--letters", "12",
         "--processes", "1", "--threads", "2"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("letters: 12, processes: 1, threads: 2")
    rates = {line.split(":")[0]: line for line in lines}
    assert float(rates["end to end"].split()[3]) > 0 and float(rates["render-only"].split()[1]) > 0
    assert lines[-1].startswith("ratio: ") and float(lines[-1].split()[1]) > 0
