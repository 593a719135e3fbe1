"""One clock: nothing in the service asks the machine for the time except ``workers/core/clock.py``.

Every "today" and "now" comes from the ``Clock`` a command, page, worker or scheduler was given,
so a test that sets a date sees the whole service on that date, and the suite passes on any day.
The few places that must compare with the machine's own clock say why below.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from workers.core.clock import FixedClock, SystemClock, london_date, london_moment

WORKERS = Path(__file__).resolve().parent.parent / "workers"

# Calls that read the machine's clock (as written in the source).
CLOCK_CALLS = {
    "datetime.now", "dt.datetime.now", "datetime.datetime.now",
    "datetime.utcnow", "dt.datetime.utcnow", "datetime.datetime.utcnow",
    "datetime.today", "dt.datetime.today", "datetime.datetime.today",
    "date.today", "dt.date.today", "datetime.date.today",
    "time.time", "time.time_ns", "time.localtime", "time.gmtime", "time.strftime",
    "london_today", "utcnow",
}

# Where the machine's clock is the right one, and why.
ALLOWED = {
    "workers/core/clock.py": "the one place the machine is asked",
    # dramatiq stamps its workers' heartbeats with the machine's clock itself
    "workers/queue/recovery.py": "compares with dramatiq's heartbeats",
    "workers/queue/broker.py": "compares with dramatiq's heartbeats",
    # a Retry-After HTTP date is the server's real time, so it is compared with the real clock
    "workers/mail/graph.py": "compares with a server's Retry-After date",
}


def clock_calls(path: Path, root: Path = WORKERS.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node.func)}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in CLOCK_CALLS
    ]


def test_only_the_clock_module_reads_the_machines_clock() -> None:
    found = [
        call
        for path in sorted(WORKERS.rglob("*.py"))
        if str(path.relative_to(WORKERS.parent)) not in ALLOWED
        for call in clock_calls(path)
    ]
    assert found == [], "take the time from the injected Clock (workers/core/clock.py):\n" + (
        "\n".join(found)
    )


def test_the_rule_finds_a_direct_call(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text("import datetime as dt\nimport time\n\ndef f():\n"
                        "    return dt.date.today(), time.time(), time.monotonic()\n")
    assert clock_calls(offender, tmp_path) == [
        "offender.py:5: dt.date.today()", "offender.py:5: time.time()",
    ]


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (dt.datetime(2027, 6, 10, 23, 30, tzinfo=dt.UTC), dt.date(2027, 6, 11)),  # 00:30 BST
        (dt.datetime(2027, 12, 10, 23, 30, tzinfo=dt.UTC), dt.date(2027, 12, 10)),  # GMT
        (dt.datetime(2028, 2, 29, 12, 0, tzinfo=dt.UTC), dt.date(2028, 2, 29)),
    ],
)
def test_today_is_londons_date(moment: dt.datetime, day: dt.date) -> None:
    assert FixedClock(moment).today() == day == london_date(moment)


def test_a_shifted_clock_keeps_running_on_its_day() -> None:
    clock = SystemClock.starting_on(dt.date(2028, 2, 29))
    first = clock.now()
    assert clock.today() == dt.date(2028, 2, 29)
    assert abs(first - london_moment(dt.date(2028, 2, 29))) < dt.timedelta(minutes=1)
    assert clock.now() >= first


def test_a_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock.on(dt.date(2027, 6, 15))
    assert clock.now() == clock.now() == dt.datetime(2027, 6, 15, 8, 30, tzinfo=dt.UTC)
    clock.advance(dt.timedelta(hours=16))
    assert clock.today() == dt.date(2027, 6, 16)
    with pytest.raises(ValueError):
        FixedClock(dt.datetime(2027, 6, 15))  # naive: which zone?
