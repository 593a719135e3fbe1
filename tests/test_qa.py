"""Quality assurance (issue 20 §4; annual report 2013-14 §9.2-9.3): chairing observations, record
audits against config/audit.yaml, who is due, and the annual report's counts.

The year below, counted by hand (report 2026/27, today 15 March 2027):
- reviews held in the year: Daniel (R-D1, 10 Jun), Aisha (R-A1, 1 Sep), Grace (R-G1, 20 Nov);
  Tomasz's R-T0 was held in the year before.
- observations: Daniel 10 Jun 2026 (R-D1) and 20 Jan 2027; Tomasz 5 May 2026 (chaired nothing
  this year, still an IRO of the year); Aisha 20 Mar 2026 (the year before). IROs of the year:
  Daniel, Aisha, Grace, Tomasz = 4; observed: Daniel, Tomasz = 2 (50%); observations: 3.
- due on 15 March 2027 (12 months): Grace and Bernadette, never observed; Aisha's falls due on
  20 March 2027, not yet.
- audits in the year: R-D1 1 Jul (record_on_time partly, smart met, child_views met), R-A1 1 Oct
  (smart partly, child_views met), R-G1 10 Jan (record_on_time met, smart not_met,
  current_information not_met); R-T0 audited 1 Mar 2026, the year before. So 3 audits:
  record_on_time met 1 partly 1; smart 1/1/1; child_views met 2; current_information not met 1.
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
from factories import make_child, make_review, postgres_store, sqlite_store, sqlite_url
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from workers.config.directory import load_directory
from workers.errors import BadInputError, ConfigError, NotFoundError, RefusedError
from workers.qa.due import next_due, observations
from workers.qa.service import record_audit, record_observation
from workers.qa.standards import load_audit
from workers.store.models import AuditEvent
from workers.store.qa_models import RecordAudit

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
TODAY = D("2027-03-15")
STANDARDS = load_audit(ROOT / "config" / "audit.yaml")
DIRECTORY = load_directory(ROOT / "config" / "directory.yaml")
MANAGER = "patricia.okafor@council.example.gov.uk"
DANIEL, AISHA = "daniel.hughes@council.example.gov.uk", "aisha.rahman@council.example.gov.uk"
GRACE, TOMASZ = "grace.whitfield@council.example.gov.uk", "tomasz.nowak@council.example.gov.uk"


def seed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for ref, iro, held in (("R-D1", DANIEL, "2026-06-10"), ("R-A1", AISHA, "2026-09-01"),
                               ("R-G1", GRACE, "2026-11-20"), ("R-T0", TOMASZ, "2025-12-01"),
                               ("R-P1", DANIEL, None)):
            child = make_child(s, ref=f"C-{ref}", iro_email=iro)
            make_review(s, child, ref=ref, held_on=D(held) if held else None,
                        status="recorded" if held else "planned")


def observe(s: Session, iro: str, on: str, review: str | None = None) -> None:
    record_observation(s, DIRECTORY, iro_email=iro, on=D(on), today=TODAY, by=MANAGER,
                       note="Chaired well; the child spoke first.", review_ref=review)


def audit(s: Session, ref: str, on: str, **ratings: str) -> None:
    record_audit(s, STANDARDS, review_ref=ref, ratings=ratings, on=D(on), today=TODAY,
                 by=MANAGER, note="Decisions lacked timescales.")


def test_shipped_standards_cite_the_annual_report() -> None:
    assert STANDARDS.observation_months == 12
    keys = [s.key for s in STANDARDS.standards]
    assert keys[:3] == ["record_on_time", "smart_decisions", "ambitious_decisions"]
    assert all(s.source.startswith("§") for s in STANDARDS.standards)


def test_broken_audit_yaml_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(
        "observation_months: 0\n"
        "standards:\n"
        "  - key: smart\n"
        "    title: SMART\n"
        "    text: Decisions are SMART.\n"
        "  - key: smart\n"
        "    tittle: Again\n"
        "    text: Twice.\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_audit(path)
    message = str(caught.value)
    assert f"{path}:1: observation_months:" in message
    assert f"{path}:7: standards[1].tittle:" in message
    path.write_text(path.read_text().replace("observation_months: 0", "observation_months: 6")
                    .replace("tittle", "title"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_audit(path)
    assert f"{path}:6: standards[1].key: standard 'smart' appears twice" in str(caught.value)


def test_recording_refuses_bad_input_and_keeps_notes_out_of_the_audit(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    seed(sessions)
    with sessions() as s:
        with pytest.raises(BadInputError, match="not an IRO in directory.yaml"):
            observe(s, "someone@council.example.gov.uk", "2026-06-10")
        with pytest.raises(RefusedError, match="chaired by another IRO"):
            observe(s, AISHA, "2026-06-10", "R-D1")
        with pytest.raises(BadInputError, match="held on 2026-06-10, not 2026-06-11"):
            observe(s, DANIEL, "2026-06-11", "R-D1")
        with pytest.raises(BadInputError, match="after today"):
            observe(s, DANIEL, "2027-03-16")
        with pytest.raises(BadInputError, match="smart: no such standard"):
            audit(s, "R-D1", "2026-07-01", smart="met")
        with pytest.raises(BadInputError, match=r"smart_decisions=done: expected met \| partly"):
            audit(s, "R-D1", "2026-07-01", smart_decisions="done")
        with pytest.raises(BadInputError, match="rate at least one standard"):
            audit(s, "R-D1", "2026-07-01")
        with pytest.raises(RefusedError, match="R-P1 has not been held"):
            audit(s, "R-P1", "2026-07-01", smart_decisions="met")
        with pytest.raises(NotFoundError):
            audit(s, "R-NONE", "2026-07-01", smart_decisions="met")
        assert s.scalars(select(RecordAudit)).all() == []
        audit(s, "R-D1", "2026-07-01", child_views="met", smart_decisions="partly")
        observe(s, DANIEL, "2026-06-10", "R-D1")
        s.commit()
        events = {e.action: e for e in s.scalars(select(AuditEvent))}
        stored = s.scalars(select(RecordAudit)).one()
    # stored in audit.yaml's order, with the titles as audited
    assert list(stored.ratings) == ["smart_decisions", "child_views"]
    assert stored.titles["child_views"] == "Child's wishes and feelings"
    assert events["qa.audited"].actor == MANAGER
    assert events["qa.audited"].details["ratings"] == {"smart_decisions": "partly",
                                                       "child_views": "met"}
    assert events["qa.observed"].actor == MANAGER
    assert events["qa.observed"].details["iro"] == DANIEL
    assert "timescales" not in json.dumps([e.details for e in events.values()])  # no note


def test_due_after_twelve_calendar_months() -> None:
    assert next_due(D("2026-03-20"), 12) == D("2027-03-20")
    assert next_due(D("2024-02-29"), 12) == D("2025-02-28")
    assert next_due(None, 12) is None


def seed_year(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with sessions.begin() as s:
        observe(s, DANIEL, "2026-06-10", "R-D1")
        observe(s, TOMASZ, "2026-05-05")
        observe(s, AISHA, "2026-03-20")
        audit(s, "R-D1", "2026-07-01", record_on_time="partly", smart_decisions="met",
              child_views="met")
        audit(s, "R-A1", "2026-10-01", smart_decisions="partly", child_views="met")
        audit(s, "R-T0", "2026-03-01", smart_decisions="met")


@pytest.fixture
def year(tmp_path: Path) -> sessionmaker[Session]:
    sessions = sqlite_store(tmp_path)
    seed_year(sessions)
    return sessions


@pytest.mark.postgres
def test_counted_on_postgresql(pg_database: str) -> None:
    """The same year before the CLI's two entries, counted by PostgreSQL: Daniel and Tomasz
    observed (2 of 4, Daniel's January observation not yet made), two audits."""
    from workers.qa.counts import qa_results

    sessions = postgres_store(pg_database)
    seed_year(sessions)
    with sessions() as s:
        found = qa_results(s, D("2026-04-01"), D("2027-03-31"))
    assert found is not None
    assert (found.observed, found.observations, found.audits) == ((DANIEL, TOMASZ), 2, 2)
    assert [(c.key, c.met, c.partly, c.not_met) for c in found.standards] == [
        ("record_on_time", 0, 1, 0), ("smart_decisions", 1, 1, 0), ("child_views", 2, 0, 0)]


def iro(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(config), *args], capture_output=True, text=True,
        env={**os.environ, "IRO_DATABASE_URL": sqlite_url(tmp_path), **as_of(TODAY)},
        timeout=60,
    )


def test_the_year_through_the_cli_and_the_report(year: sessionmaker[Session], tmp_path: Path,
                                                 config_copy: Path) -> None:
    with year() as s:
        due = {o.name: o for o in observations(s, DIRECTORY.iro_names(), 12)}
    assert [n for n, o in due.items() if o.is_due(TODAY)] == ["Bernadette Kelly", "Grace Whitfield"]
    assert due["Aisha Rahman"].due_on == D("2027-03-20")

    done = iro(tmp_path, config_copy, "qa", "observe", DANIEL, "--on", "2027-01-20")
    assert done.returncode == 0, done.stderr
    assert "observation of Daniel Hughes on 2027-01-20 recorded; next due by 2028-01-20" \
        in done.stdout
    audited = iro(tmp_path, config_copy, "qa", "audit", "R-G1", "--on", "2027-01-10",
                  "--standard", "record_on_time=met", "--standard", "smart_decisions=not met",
                  "--standard", "current_information=not_met")
    assert audited.returncode == 0, audited.stderr
    assert "audit of R-G1 recorded: 1 met, 0 partly, 2 not met" in audited.stdout
    wrong = iro(tmp_path, config_copy, "qa", "audit", "R-G1", "--standard", "smart=met")
    assert wrong.returncode == 2
    assert "smart: no such standard in audit.yaml" in wrong.stderr
    status = iro(tmp_path, config_copy, "qa", "status")
    assert status.returncode == 0, status.stderr
    assert "Grace Whitfield: last observed never; DUE" in status.stdout
    assert "Aisha Rahman: last observed 2026-03-20; next by 2027-03-20" in status.stdout
    with year() as s:
        by = {e.details.get("audit"): e.actor for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "qa.audited"))}
    assert MANAGER in by.values()  # the CLI's default actor: directory.yaml's IRO manager

    report = iro(tmp_path, config_copy, "report", "--from", "2026-04-01", "--to", "2027-03-31",
                 "--format", "json")
    assert report.returncode == 0, report.stderr
    tables = {t["key"]: t for t in json.loads(report.stdout)["tables"]}
    assert tables["observations"]["rows"] == [
        ["IROs in the period", 4], ["IROs observed chairing a review", 2],
        ["% of IROs observed", 50.0], ["Observations recorded", 3]]
    assert tables["record_audits"]["title"] == "Review records audited: 3"
    assert tables["record_audits"]["rows"] == [
        ["Record written up on time", 1, 1, 0, 2],
        ["Decisions are SMART", 1, 1, 1, 3],
        ["Child's wishes and feelings", 2, 0, 0, 2],
        ["Information is current", 0, 0, 1, 1]]
    out = tmp_path / "report.docx"
    docx = iro(tmp_path, config_copy, "report", "--from", "2026-04-01", "--to", "2027-03-31",
               "--format", "docx", "-o", str(out))
    assert docx.returncode == 0, docx.stderr
    from docx import Document

    text = "\n".join(c.text for t in Document(str(out)).tables for r in t.rows for c in r.cells)
    assert "IROs observed chairing a review" in text and "Decisions are SMART" in text


def test_no_section_where_nothing_was_ever_recorded(tmp_path: Path) -> None:
    from workers.qa.counts import qa_results

    sessions = sqlite_store(tmp_path)
    seed(sessions)
    with sessions() as s:
        assert qa_results(s, D("2026-04-01"), D("2027-03-31")) is None
