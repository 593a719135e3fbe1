"""An `iro` command run by a test as if it were a given day (the suite must pass on any day).

The command's Python loads ``tests/clockshift/sitecustomize.py``, which moves its clock by
``IRO_TEST_CLOCK_SHIFT`` seconds with time-machine. The shift is counted from the real time, so
it is right whether or not the suite itself runs shifted (scripts/shifted-suite).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from workers.core.clock import WORKDAY_MORNING, london_moment

CLOCKSHIFT = Path(__file__).resolve().parent / "clockshift"


def real_time() -> float:
    """The machine's time, whatever shift this process runs under."""
    return time.time() - float(os.environ.get("IRO_TEST_CLOCK_SHIFT", "0") or 0)


def as_of(day: dt.date, at: dt.time = WORKDAY_MORNING) -> dict[str, str]:
    """Environment variables for a subprocess that lives on ``day`` from ``at`` London time."""
    shift = london_moment(day, at).timestamp() - real_time()
    path = os.environ.get("PYTHONPATH", "")
    return {
        "IRO_TEST_CLOCK_SHIFT": f"{shift:.3f}",
        "PYTHONPATH": str(CLOCKSHIFT) + (os.pathsep + path if path else ""),
    }
