"""`iro report quarterly` (issue 20 §3) through the real console script on a SQLite store whose
escalations were raised, advanced, referred and resolved through the escalation service, counted
by hand; and the plain rate of reviews per IRO per month.

The quarters (the reporting year starts on 1 April): Q2 2026/27 is July to September 2026, Q3
October to December 2026. Escalations, with the shipped 20-working-day ceiling:

1. child A, informal, raised Mon 3 Aug, resolved Mon 10 Aug                  (Q2, within ceiling)
2. child B, informal, raised Tue 1 Sep, advanced to the deputy manager 15 Sep, resolved Tue 20 Oct
   (ceiling: 20 working days after 1 Sep is Tue 29 Sep — open and past it at Q2's end; resolved in
   Q3, not within it)
3. child C, raised straight at the group manager Mon 5 Oct, still open   (past its ceiling by Dec)
4. child C again, informal, raised Mon 2 Nov, referred to CAFCASS 16 Nov, resolved Fri 20 Nov
5. child D, informal, raised Mon 14 Dec, still open                      (within its ceiling)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import make_child, sqlite_store, sqlite_url
from test_escalation_service import shipped

from workers.core.clock import FixedClock
from workers.errors import BadInputError
from workers.escalation.service import EscalationService
from workers.report.figures import IroMonth, Period, Reviews
from workers.report.quarterly import Quarter

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
IRO = "daniel.hughes@council.example.gov.uk"
DELAY, PEP = "delay_in_review_decisions", "pep_not_recorded"


def test_quarters_of_the_reporting_year() -> None:
    assert Quarter.parse("2026-Q1").period == Period(D("2026-04-01"), D("2026-06-30"))
    assert Quarter.parse("2026-q3").period == Period(D("2026-10-01"), D("2026-12-31"))
    assert Quarter.parse("2026-Q4").period == Period(D("2027-01-01"), D("2027-03-31"))
    assert Quarter.parse("2026-Q1").previous.period == Period(D("2026-01-01"), D("2026-03-31"))
    assert Quarter.parse("2026-Q4").following == Quarter(2027, 1)
    assert Quarter.parse("2026-Q3").long_label == "Q3 2026/27 (1 October to 31 December 2026)"
    for bad in ("2026-Q5", "2026Q3", "Q3", "99999-Q1", "2026-Q٣"):
        with pytest.raises(BadInputError, match="2026-Q3"):
            Quarter.parse(bad)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("quarterly")
    sessions = sqlite_store(tmp)
    policy, directory = shipped()
    with sessions() as session:
        a, b, c, d = (make_child(session, iro_email=IRO, team="north_lac") for _ in range(4))
        svc = EscalationService(session, policy, directory, clock=FixedClock.on(D("2027-01-04")))

        def raise_(child_ref: str, on: str, category: str = DELAY, stage: str | None = None) -> int:
            return svc.raise_(child_ref, concern="the plan has drifted", category=category,
                              stage=stage, iro_email=IRO, on=D(on)).id

        one = raise_(a.ref, "2026-08-03")
        svc.resolve(one, outcome="agreed", by=IRO, on=D("2026-08-10"))
        two = raise_(b.ref, "2026-09-01")
        svc.advance(two, by=IRO, on=D("2026-09-15"))
        svc.resolve(two, outcome="agreed", by=IRO, on=D("2026-10-20"))
        raise_(c.ref, "2026-10-05", stage="group_manager")
        four = raise_(c.ref, "2026-11-02", category=PEP)
        svc.refer_cafcass(four, by=IRO, on=D("2026-11-16"))
        svc.resolve(four, outcome="recorded", by=IRO, on=D("2026-11-20"))
        raise_(d.ref, "2026-12-14")
        session.commit()
    return sqlite_url(tmp)


def iro(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(ROOT / "config"), "report", *args],
        capture_output=True, text=True, env={**os.environ, "IRO_DATABASE_URL": url},
        timeout=120, cwd=ROOT,
    )


def test_the_quarter_beside_the_one_before(store: str) -> None:
    done = iro(store, "quarterly", "--quarter", "2026-Q3", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["quarter"], doc["start"], doc["end"]) == ("Q3 2026/27", "2026-10-01", "2026-12-31")
    q3, q2 = doc["figures"], doc["previous"]
    assert (q3["raised"], q3["children_raised"], q3["raised_past_first_stage"]) == (3, 2, 1)
    assert (q3["resolved"], q3["resolved_within_ceiling"]) == (2, 1)
    assert q3["resolved_by_stage"] == {"deputy_manager": 1, "informal": 1}
    assert (q3["open_at_end"], q3["open_past_ceiling"], q3["cafcass_referred"]) == (2, 1, 1)
    assert q3["themes"] == {DELAY: [2, 1, 2], PEP: [1, 1, 0]}
    assert (q2["raised"], q2["resolved"], q2["resolved_within_ceiling"]) == (2, 1, 1)
    assert (q2["open_at_end"], q2["open_past_ceiling"], q2["cafcass_referred"]) == (1, 1, 0)

    tables = {t["key"]: t for t in doc["tables"]}
    summary = {row[0]: row[1:] for row in tables["quarter_escalations"]["rows"]}
    assert summary["Escalations raised"] == [3, 2]
    assert summary["Open at the end and past 20 working days"] == [1, 1]
    stage_rows = [row[0] for row in tables["quarter_resolved_by_stage"]["rows"]]
    assert len(stage_rows) == len(set(stage_rows)) == 6  # each stage once, in procedure order
    assert stage_rows[0] == "Informal resolution with the team manager"
    by_stage = {row[0]: row[1:] for row in tables["quarter_resolved_by_stage"]["rows"]}
    assert by_stage["Informal resolution with the team manager"] == [1, 1]
    assert by_stage["Formal stage 1 - deputy manager"] == [1, 0]
    examples = tables["quarter_examples"]["rows"]
    # resolved in the quarter, latest first, then the open ones, longest waiting first
    assert [row[2] for row in examples] == [
        "Resolved: Informal resolution with the team manager",
        "Resolved: Formal stage 1 - deputy manager",
        "Still open: Formal stage 2 - group manager",
        "Still open: Informal resolution with the team manager",
    ]
    assert examples[1][1] == "Informal resolution with the team manager"  # where it was raised
    assert "O'Neil" not in done.stdout and "Zoë" not in done.stdout
    assert "the plan has drifted" not in done.stdout  # concern text is never reported


def test_table_csv_and_word(store: str, tmp_path: Path) -> None:
    from docx import Document

    table = iro(store, "quarterly", "--quarter", "2026-Q3")
    assert table.returncode == 0, table.stderr
    title = "IRO escalations and midway monitoring: Q3 2026/27 (1 October to 31 December 2026)"
    assert title in table.stdout
    assert "Themes in Q3 2026/27" in table.stdout
    csv = iro(store, "quarterly", "--quarter", "2026-Q3", "--format", "csv")
    assert "quarter_escalations,Escalations raised,Q3 2026/27,3" in csv.stdout.splitlines()
    out = tmp_path / "q3.docx"
    word = iro(store, "quarterly", "--quarter", "2026-Q3", "--format", "docx", "-o", str(out))
    assert word.returncode == 0, word.stderr
    doc = Document(str(out))
    texts = [p.text for p in doc.paragraphs]
    assert title in texts
    assert len(doc.tables) == 5
    assert not any("{{" in t for t in texts)


def test_bad_quarter_and_missing_period(store: str) -> None:
    bad = iro(store, "quarterly", "--quarter", "2026-Q7")
    assert bad.returncode == 2 and "2026-Q3" in bad.stderr
    bare = iro(store)
    assert bare.returncode == 2 and "--from" in bare.stderr and "quarterly" in bare.stderr


def test_reviews_per_iro_per_month_is_the_plain_rate() -> None:
    """Two IROs over three months, one idle in May and both in June: 6 reviews / (2 x 3)."""
    a, b = "a@council.example.gov.uk", "b@council.example.gov.uk"
    reviews = Reviews(6, 6, 6, (IroMonth(a, 2026, 4, 3), IroMonth(b, 2026, 4, 1),
                                IroMonth(a, 2026, 5, 2)),
                      Period(D("2026-04-01"), D("2026-06-30")).months)
    assert reviews.average_per_iro_month == 1.0  # averaging only the busy months gave 2.0
    from workers.report import tables

    by_iro = tables._by_iro(reviews, {a: "Ann Able"})
    # shown by name where the directory knows them; a month with none counts as 0
    assert by_iro.rows == (("Ann Able", 3, 2, 0, 5, 1.67), (b, 1, 0, 0, 1, 0.33))
    by_month = tables._by_month(reviews)
    assert [row[3] for row in by_month.rows] == [2.0, 1.0, 0.0]  # over both IROs, every month
