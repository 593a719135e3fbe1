"""Every Python process of a shifted test run loads this first (``scripts/shifted-suite`` puts
this folder on PYTHONPATH): the process's clock is moved by ``IRO_TEST_CLOCK_SHIFT`` seconds
and keeps running, so the suite, its `iro` commands and their workers all live on another day.

time-machine moves Python's own clocks only (``time.time``, ``datetime.now``, ``date.today``);
sleeps and waits are untouched. PostgreSQL, Redis and LibreOffice keep the real time, which the
service never asks for (tests/test_clock_rule.py).
"""

import os

_shift = os.environ.get("IRO_TEST_CLOCK_SHIFT")
if _shift:
    try:
        import time_machine
    except ImportError:  # another Python (LibreOffice's UNO bridge) keeps the real time
        pass
    else:
        import time

        time_machine.travel(time.time() + float(_shift), tick=True).start()
