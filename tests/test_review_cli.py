"""`iro review ...` and `iro caseload` run as people run them, on a migrated SQLite store.

The commands run as if it were 1 December 2026 (tests/clock_env.py): they refuse a meeting recorded
in the future, and an earlier review asked for in the past.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clock_env import as_of
from factories import make_child, make_participant, make_review, sqlite_store, sqlite_url

D = dt.date.fromisoformat
TODAY = D("2026-12-01")
IRO = "grace.whitfield@council.example.gov.uk"


@pytest.fixture
def setup(tmp_path: Path, config_copy: Path) -> tuple[Path, str]:
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        child = make_child(
            s, ref="C-100", given_name="Zoë", family_name="O'Neil", iro_email=IRO,
            looked_after_since=D("2026-03-02"),
        )  # fmt: skip
        review = make_review(
            s, child, ref="R-100", sequence=2, due_on=D("2026-10-02"), iro_email=IRO,
            scheduled_at=None,
        )  # fmt: skip
        make_participant(s, review, "child", ref="P-1", email=None, channel="post")
        make_participant(s, review, "carer", ref="P-2")
    return config_copy, sqlite_url(tmp_path)


def iro(setup: tuple[Path, str], *args: str) -> subprocess.CompletedProcess[str]:
    config, url = setup
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(config), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "IRO_DATABASE_URL": url, **as_of(TODAY)},
        timeout=60,
    )


def ok(setup: tuple[Path, str], *args: str) -> str:
    done = iro(setup, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_held_then_record_written_late(setup: tuple[Path, str]) -> None:
    out = ok(setup, "review", "held", "R-100", "--date", "2026-10-01", "--participation", "PN1",
             "--attended", "child", "--attended", "P-2")  # fmt: skip
    # Thu 1 Oct 2026: decisions 2(1) 5 6 7 8(5); record 9(6) 12 13 14 15(10) 16(11) 19 20 21 22(15)
    assert "review R-100 held 2026-10-01 (in timescale)" in out
    assert "decisions due 2026-10-08 (reminders 2026-10-07; overdue notice 2026-10-09)" in out
    assert (
        "record due 2026-10-22 (reminders 2026-10-15, 2026-10-21; overdue notice 2026-10-23)" in out
    )
    # 6 months after the day held; 15 working days before Thu 1 Apr 2027: 31(1) 30 (29 Easter
    # Monday, 26 Good Friday) 25(3) 24 23 22(6) 19 18 17 16 15(11) 12 11 10 9(15)
    assert "next review C-100-R3 (subsequent) due 2027-04-01; invitations from 2027-03-09" in out
    assert "Zoë" not in out and "O'Neil" not in out

    again = iro(setup, "review", "held", "R-100", "--date", "2026-10-02")
    assert again.returncode == 2 and "already held on 2026-10-01" in again.stderr

    out = ok(setup, "review", "decisions-sent", "R-100", "--date", "2026-10-08")
    assert "decisions 2026-10-08, 5 working days after the meeting (in time)" in out
    # overdue on 23 Oct: the record is past its date, and shows in both views
    caseload = json.loads(ok(setup, "caseload", "--format", "json", "--on", "2026-10-23"))
    (load,) = caseload["iros"]
    assert load["iro_email"] == IRO and load["overdue_count"] == 1
    (line,) = load["children"]
    assert line == {
        "child_ref": "C-100",
        "initials": "Z.O.",
        "next_review_ref": "C-100-R3",
        "next_review_due": "2027-04-01",
        "write_ups": [],
        "overdue": ["R-100 record due 2026-10-22"],
        "midway": [],  # the scheduler's midway scan has not run (tests/test_midway.py)
    }
    overdue = json.loads(
        ok(setup, "deadlines", "--overdue", "--on", "2026-10-23", "--format", "json")
    )
    assert [(i["kind"], i["review_ref"], i["working_days_left"]) for i in overdue["items"]] == [
        ("record", "R-100", -1)
    ]
    # 22 Oct was day 15: 23 (16), 26 (17)
    out = ok(setup, "review", "recorded", "R-100", "--date", "2026-10-26")
    assert "record 2026-10-26, 17 working days after the meeting (LATE)" in out
    caseload = json.loads(ok(setup, "caseload", "--format", "json", "--on", "2026-10-27"))
    assert caseload["iros"][0]["children"][0]["overdue"] == []
    table = ok(setup, "caseload", "--iro", IRO, "--on", "2026-10-27")
    assert "C-100" in table and "Z.O." in table and "Zoë" not in table


def test_write_ups_in_progress_and_due_within(setup: tuple[Path, str]) -> None:
    ok(setup, "review", "held", "R-100", "--date", "2026-10-01")
    caseload = json.loads(ok(setup, "caseload", "--format", "json", "--on", "2026-10-05"))
    assert caseload["iros"][0]["children"][0]["write_ups"] == [
        "R-100 decisions due 2026-10-08",
        "R-100 record due 2026-10-22",
    ]
    soon = json.loads(
        ok(setup, "deadlines", "--due-within", "3", "--on", "2026-10-05", "--format", "json")
    )
    assert [i["kind"] for i in soon["items"]] == ["decisions"]  # 6 7 8: 3 working days left


def test_an_earlier_review(setup: tuple[Path, str]) -> None:
    ok(setup, "review", "held", "R-100", "--date", "2026-10-01")
    out = ok(setup, "review", "schedule", "C-100", "--date", "2027-03-01", "--time", "14:30")
    assert "review C-100-R3 brought forward to 2027-03-01 14:30 (statutory date 2027-04-01)" in out
    late = iro(setup, "review", "schedule", "C-100", "--date", "2027-04-02")
    assert late.returncode == 2 and "after the statutory date 2027-04-01" in late.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("review", "held", "R-999", "--date", "2026-10-01"), "no review 'R-999'"),
        (("review", "held", "R-100", "--date", "1/10/2026"), "--date: expected a date"),
        (("review", "held", "R-100", "--date", "2099-01-01"), "is in the future"),
        (("review", "held", "R-100", "--date", "2026-10-01", "--participation", "X"), "SSDA903"),
        (
            ("review", "held", "R-100", "--date", "2026-10-01", "--attended", "uncle"),
            "--attended uncle",
        ),
        (("review", "recorded", "R-100", "--date", "2026-10-01"), "has not been marked held"),
        (("review", "schedule", "C-404", "--date", "2027-01-04"), "no child 'C-404'"),
        (("caseload", "--format", "xml"), "--format"),
    ],
)
def test_bad_input_exits_2_naming_what(
    setup: tuple[Path, str], args: tuple[str, ...], message: str
) -> None:
    done = iro(setup, *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
