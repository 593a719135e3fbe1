"""`iro deadlines` run as people run it, on a migrated SQLite store filled through the models.

Counted from Monday 5 January 2026 (``--on``), with the council closed 29 Dec 2025 - 2 Jan 2026.
Every expected number is worked out by hand beside the row that produces it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import make_child, make_review, sqlite_store, sqlite_url

from workers.store.models import Deadline, Escalation

D = dt.date.fromisoformat
ON = "2026-01-05"
IRO_ONE = "iro.one@council.example.gov.uk"
IRO_TWO = "iro.two@council.example.gov.uk"

RULES_YAML = """\
calendar:
  closures:
    - {start: 2025-12-29, end: 2026-01-02, reason: Christmas closure 2025}
escalation:
  stages:
    - {key: informal, title: Informal, recipients: [team_manager], template: escalation_informal}
  categories:
    - {key: other, title: Other}
"""

# (due_on, kind, child_ref, review_ref, working_days_left, overdue, iro, planned), sorted by date
EXPECTED = [
    # decisions of R-B1, internal: counting back from Mon 5 Jan over the closure and bank
    # holidays, 22, 23, 24 Dec → -3
    ("2025-12-22", "decisions", "C-B", "R-B1", -3, True, IRO_TWO, True),
    # escalation response, internal: 6, 7 Jan → 2
    ("2026-01-07", "escalation_response", "C-D", None, 2, False, IRO_TWO, True),
    ("2026-01-09", "review_due", "C-D", "R-D", 4, False, IRO_TWO, True),  # 6, 7, 8, 9
    ("2026-01-14", "record", "C-B", "R-B1", 7, False, IRO_TWO, True),  # 6-9 (4), 12-14 (7)
    # statutory: 6-9 (4), 12-16 (9), 19-21 (12)
    ("2026-01-21", "review_due", "C-A", "R-A", 12, False, IRO_ONE, True),
    # C-E has no review yet: reg 33's first review, 20 statutory working days after becoming
    # looked after on Fri 19 Dec 2025 → 21 Jan 2026, 12 left
    ("2026-01-21", "review_due", "C-E", None, 12, False, IRO_ONE, False),
    # C-B's next review is not planned: 3 months after the first was held on 15 Dec 2025 → Sun
    # 15 Mar 2026. Statutory days: Jan 6-30 (19), Feb (39), Mar 2-13 (49)
    ("2026-03-15", "review_due", "C-B", None, 49, False, IRO_TWO, False),
]


@pytest.fixture
def setup(tmp_path: Path, config_copy: Path) -> tuple[Path, str]:
    (config_copy / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    directory = config_copy / "directory.yaml"
    text = directory.read_text(encoding="utf-8")
    directory.write_text(  # --iro is checked against the directory
        text.replace("iros:\n", f"iros:\n  - {{name: One, email: {IRO_ONE}}}\n"
                     f"  - {{name: Two, email: {IRO_TWO}}}\n", 1),
        encoding="utf-8",
    )
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        a = make_child(s, ref="C-A", given_name="Zoë", family_name="O'Neil", iro_email=IRO_ONE)
        r_a = make_review(s, a, ref="R-A", sequence=1, due_on=D("2026-01-21"), iro_email=IRO_ONE)
        # an open review_due row for the planned review is not listed twice
        s.add(_deadline("R-A/review_due", "review_due", D("2026-01-21"), True, review_id=r_a.id))

        b = make_child(s, ref="C-B", given_name="Sam", family_name="Smith", iro_email=IRO_TWO)
        r_b = make_review(
            s,
            b,
            ref="R-B1",
            sequence=1,
            due_on=D("2025-12-19"),
            status="held",
            held_on=D("2025-12-15"),
            iro_email=IRO_TWO,
        )
        s.add(_deadline("R-B1/decisions", "decisions", D("2025-12-22"), False, review_id=r_b.id))
        s.add(_deadline("R-B1/record", "record", D("2026-01-14"), False, review_id=r_b.id))
        met = _deadline("R-B1/review_due", "review_due", D("2025-12-19"), True, review_id=r_b.id)
        met.met_on = D("2025-12-15")
        s.add(met)

        c = make_child(s, ref="C-C", ceased_on=D("2025-11-01"))  # no longer looked after
        make_review(s, c, ref="R-C", due_on=D("2026-01-06"))

        d = make_child(s, ref="C-D", iro_email=IRO_TWO)
        make_review(s, d, ref="R-D", sequence=3, due_on=D("2026-01-09"), iro_email=IRO_TWO)
        esc = Escalation(
            child_id=d.id,
            iro_email=IRO_TWO,
            category="other",
            concern="(test)",
            stage="deputy_manager",
            raised_on=D("2025-12-17"),
            stage_started_on=D("2025-12-22"),
        )
        s.add(esc)
        s.flush()
        s.add(
            _deadline(
                "E/response", "escalation_response", D("2026-01-07"), False, escalation_id=esc.id
            )
        )
        make_child(s, ref="C-E", looked_after_since=D("2025-12-19"), iro_email=IRO_ONE)
    return config_copy, sqlite_url(tmp_path)


def _deadline(key: str, kind: str, due: dt.date, statutory: bool, **ids: int | None) -> Deadline:
    return Deadline(key=key, kind=kind, started_on=due, due_on=due, statutory=statutory, **ids)


def iro(setup: tuple[Path, str], *args: str) -> subprocess.CompletedProcess[str]:
    config, url = setup
    env = {**os.environ, "IRO_DATABASE_URL": url}
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(config), "deadlines", "--on", ON, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _json(setup: tuple[Path, str], *args: str) -> list[tuple[object, ...]]:
    done = iro(setup, "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["as_of"] == ON
    return [
        (
            i["due_on"],
            i["kind"],
            i["child_ref"],
            i["review_ref"],
            i["working_days_left"],
            i["overdue"],
            i["iro_email"],
            i["planned"],
        )
        for i in data["items"]
    ]


def test_lists_next_reviews_and_open_deadlines_by_date(setup: tuple[Path, str]) -> None:
    assert _json(setup) == EXPECTED


def test_overdue(setup: tuple[Path, str]) -> None:
    assert _json(setup, "--overdue") == EXPECTED[:1]


def test_due_within_keeps_overdue_items(setup: tuple[Path, str]) -> None:
    assert _json(setup, "--due-within", "4") == EXPECTED[:3]


def test_iro_filter_ignores_case(setup: tuple[Path, str]) -> None:
    mine = [row for row in EXPECTED if row[6] == IRO_TWO]
    assert _json(setup, "--iro", IRO_TWO.upper()) == mine


def test_csv(setup: tuple[Path, str]) -> None:
    done = iro(setup, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["due_on"], r["kind"], r["child_ref"]) for r in rows] == [e[:3] for e in EXPECTED]
    assert rows[0]["initials"] == "S.S." and rows[0]["working_days_left"] == "-3"


def test_table_shows_refs_and_initials_never_names(setup: tuple[Path, str]) -> None:
    done = iro(setup)
    assert done.returncode == 0, done.stderr
    assert "C-A" in done.stdout and "Z.O." in done.stdout and "R-B1" in done.stdout
    assert "C-C" not in done.stdout  # ceased
    for fmt in ("table", "csv", "json"):
        out = iro(setup, "--format", fmt).stdout
        for name in ("Zoë", "O'Neil", "O\\u2019Neil", "Sam", "Smith"):
            assert name not in out, (fmt, name)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format: expected one of table, csv, json, got 'xml'"),
        (["--due-within", "-1"], "--due-within: expected 0 or more"),
        (["--on", "05/01/2026"], "--on: expected a date like"),
    ],
)
def test_bad_options_exit_2(setup: tuple[Path, str], args: list[str], message: str) -> None:
    done = iro(setup, *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_unmigrated_store_says_what_to_run(tmp_path: Path, config_copy: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    done = iro((config_copy, url))
    assert done.returncode == 2
    assert "iro db upgrade" in done.stderr
    assert "Traceback" not in done.stderr


def test_caseload_labels_say_due_once() -> None:
    # "review_due" was printed "R-1 review due due 2026-11-02"
    from workers.reviews.caseload import caseloads
    from workers.store.deadline_queries import DueItem

    items = [DueItem(dt.date(2026, 11, 2), -3, kind, kind == "review_due", "C-1", "A.B.", "R-1",
                     None, IRO_ONE, True, True) for kind in ("review_due", "record", "midway")]
    [load] = caseloads(items)
    assert load.children[0].overdue == ["R-1 review due 2026-11-02", "R-1 record due 2026-11-02",
                                        "R-1 midway check due 2026-11-02"]
