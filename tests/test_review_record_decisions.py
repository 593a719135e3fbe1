"""The review record's decisions, round the year (issue 15 §1): the third review's completed record
is given back with `iro review recorded REF --file`, its decisions table is read into the store,
and the fourth review's draft carries them with a column for progress. A record that cannot be
read is kept, with a message that says why. Drafts are read back as text with python-docx.

The commands run as if it were 1 December 2026 (tests/clock_env.py).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from clock_env import as_of
from factories import make_child, make_participant, make_review, sqlite_store, sqlite_url
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_documents_support import docx_text

from workers.config.directory import load_directory
from workers.config.rules import load_rules
from workers.core.clock import FixedClock
from workers.core.workcalendar import WorkingCalendar
from workers.escalation.policy import Policy
from workers.escalation.service import EscalationService
from workers.reviews.notices import NoticeConfig, render_draft_record
from workers.reviews.records import review_by_ref
from workers.store.models import AuditEvent, Review, ReviewDecision

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
TODAY = D("2026-12-01")
IRO = "grace.whitfield@council.example.gov.uk"
RULES = load_rules(ROOT / "config" / "rules.yaml")
DIRECTORY = load_directory(ROOT / "config" / "directory.yaml")
CAL = WorkingCalendar.from_rules(RULES.calendar)
DECISIONS = [
    ("Settled at school", "Update the personal education plan", "Designated teacher",
     "By 15 January 2027", "PEP signed off"),
    ("Healthy teeth", "Book a dental check-up", "Foster carer", "Within 1 month",
     "Check-up attended"),
]


@pytest.fixture
def case(tmp_path: Path, config_copy: Path) -> tuple[Path, str, sessionmaker[Session]]:
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        child = make_child(s, ref="C-300", given_name="Zoë", family_name="O'Neil", iro_email=IRO,
                           team="north_lac", looked_after_since=D("2025-06-02"))
        review = make_review(s, child, ref="C-300-R3", sequence=3, due_on=D("2026-10-02"),
                             iro_email=IRO, scheduled_at=None)
        make_participant(s, review, "child", ref="P-1", name="Zoë O'Neil",
                         relationship_to_child="self", email=None, channel="post")
        make_participant(s, review, "parent", ref="P-2", name="Jo O'Neil",
                         relationship_to_child="mother")
        make_participant(s, review, "social_worker", ref="P-3", name="Chris Adams",
                         relationship_to_child="")
    return config_copy, sqlite_url(tmp_path), sessions


def iro(case: tuple[Path, str, sessionmaker[Session]], tmp: Path,
        *args: str) -> subprocess.CompletedProcess[str]:
    config, url, _ = case
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(config), *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, "IRO_DATABASE_URL": url, "IRO_DOCUMENTS_DIR": str(tmp / "documents"),
             **as_of(TODAY)},
    )


def draft(sessions: sessionmaker[Session], ref: str) -> bytes:
    cfg = NoticeConfig(RULES, DIRECTORY, CAL, ROOT / "templates_docx",
                       clock=FixedClock.on(TODAY))
    with sessions() as s:
        return render_draft_record(s, review_by_ref(s, ref), cfg)


def fill_decisions(content: bytes, rows: list[tuple[str, ...]]) -> bytes:
    """What the IRO does in Word: writes the decisions in the SMART table."""
    document = docx.Document(io.BytesIO(content))
    (smart,) = [t for t in document.tables if "Outcome indicator" in t.rows[0].cells[-1].text]
    for row, values in zip(smart.rows[1:], rows, strict=False):
        for cell, value in zip(row.cells[1:], values, strict=True):
            cell.paragraphs[0].add_run(value)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_the_fourth_review_carries_the_third_reviews_decisions(
    case: tuple[Path, str, sessionmaker[Session]], tmp_path: Path
) -> None:
    sessions = case[2]
    done = iro(case, tmp_path, "review", "held", "C-300-R3", "--date", "2026-10-01",
               "--attended", "P-2", "--attended", "P-3")
    assert done.returncode == 0, done.stderr
    third = draft(sessions, "C-300-R3")
    text = docx_text(third)
    # roles and relationships in words, never the stored keys
    assert "social worker" in text and "mother" in text
    assert "social_worker" not in text and "self" not in text.split()
    # the next review's date by reg 33 (six months after 1 October 2026)
    assert "Next review due by (reg 33)\n1 April 2027" in text
    # a third review whose second is not in the store: no claim of a first review
    assert "no previous decisions" not in text
    assert "Previous decisions: see the record of the previous review" in text

    record = tmp_path / "C-300-R3 record.docx"
    record.write_bytes(fill_decisions(third, DECISIONS))
    done = iro(case, tmp_path, "review", "recorded", "C-300-R3", "--date", "2026-10-20",
               "--file", str(record))
    assert done.returncode == 0, done.stderr
    assert "record 2026-10-20, 13 working days after the meeting (in time)" in done.stdout
    assert "2 decision(s) read from the record" in done.stdout
    with sessions() as s:
        review = review_by_ref(s, "C-300-R3")
        rows = s.scalars(select(ReviewDecision).where(ReviewDecision.review_id == review.id)
                         .order_by(ReviewDecision.number)).all()
        assert [(r.number, r.outcome, r.action, r.responsible, r.timescale, r.indicator)
                for r in rows] == [(1, *DECISIONS[0]), (2, *DECISIONS[1])]
        assert review.record_file and Path(review.record_file).read_bytes() == record.read_bytes()
        fourth = s.scalars(select(Review).where(Review.sequence == 4)).one()
        fourth_ref = fourth.ref
        policy = Policy.from_rules(RULES.escalation, CAL)
        EscalationService(s, policy, DIRECTORY, clock=FixedClock.on(TODAY)).raise_(
            "C-300", concern="PEP late", category="pep_not_recorded", on=D("2026-11-20"))
        s.commit()

    # the record to those entitled to it: shown first, planned only when the IRO confirms
    shown = iro(case, tmp_path, "review", "distribute", "C-300-R3",
                "--withhold", "P-2=The child and the placement")
    assert shown.returncode == 0, shown.stderr
    assert "P-1 child: letter of what was decided by post" in shown.stdout
    assert "P-2 parent: review record by email; withheld: The child and the placement" in (
        shown.stdout)
    assert "nothing is sent until you run this again with --confirm" in shown.stdout
    sent = iro(case, tmp_path, "review", "distribute", "C-300-R3", "--withhold",
               "P-2=The child and the placement", "--confirm", "--by", IRO)
    assert sent.returncode == 0, sent.stderr
    assert "3 copies planned" in sent.stdout and "Zoë" not in sent.stdout

    done = iro(case, tmp_path, "review", "held", fourth_ref, "--date", "2026-12-01")
    assert done.returncode == 0, done.stderr
    text = docx_text(draft(sessions, fourth_ref))
    assert "From the record of the review held on 1 October 2026" in text
    assert "Settled at school: Update the personal education plan" in text
    assert "Designated teacher" in text and "Within 1 month" in text
    assert "Progress" in text and "no previous decisions" not in text
    assert "Personal education plan not recorded" in text and "ESC-1" in text
    assert "Next review due by (reg 33)\n1 June 2027" in text
    assert "mother" in text and "social worker" in text and "social_worker" not in text


def test_a_later_review_with_an_unread_previous_record_names_its_date(
    case: tuple[Path, str, sessionmaker[Session]],
) -> None:
    sessions = case[2]
    with sessions.begin() as s:
        child = make_child(s, ref="C-301", iro_email=IRO, looked_after_since=D("2026-04-01"))
        make_review(s, child, ref="C-301-R1", sequence=1, status="held", held_on=D("2026-07-09"),
                    due_on=D("2026-07-10"), iro_email=IRO)
        make_review(s, child, ref="C-301-R2", sequence=2, status="held", held_on=D("2026-10-08"),
                    due_on=D("2026-10-09"), iro_email=IRO)
    text = docx_text(draft(sessions, "C-301-R2"))
    assert "Previous decisions: see the record of 9 July 2026" in text
    assert "no previous decisions" not in text
    assert "first review: there are no previous decisions" in docx_text(
        draft(sessions, "C-301-R1"))


def test_a_record_that_cannot_be_read_is_kept_with_a_clear_message(
    case: tuple[Path, str, sessionmaker[Session]], tmp_path: Path
) -> None:
    sessions = case[2]
    assert iro(case, tmp_path, "review", "held", "C-300-R3", "--date", "2026-10-01").returncode == 0
    notes = tmp_path / "notes.docx"
    notes.write_text("typed notes, not a Word file")
    done = iro(case, tmp_path, "review", "recorded", "C-300-R3", "--date", "2026-10-20",
               "--file", str(notes))
    assert done.returncode == 2
    assert "notes.docx: not a Word document (.docx) that can be opened" in done.stderr
    assert "the file is kept" in done.stderr and "record kept at" in done.stdout
    no_table = tmp_path / "letter.docx"
    document = docx.Document()
    document.add_paragraph("The decisions were agreed at the meeting.")
    document.save(str(no_table))
    done = iro(case, tmp_path, "review", "recorded", "C-300-R3", "--date", "2026-10-20",
               "--file", str(no_table))
    assert done.returncode == 2 and "no decisions table found" in done.stderr
    with sessions() as s:
        review = review_by_ref(s, "C-300-R3")
        assert review.recorded_on == D("2026-10-20")  # the record was written: its clock stops
        assert review.record_file and Path(review.record_file).exists()
        assert s.scalars(select(ReviewDecision)).all() == []
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_record.returned")).all()
        assert [e.details["readable"] for e in events] == [False, False]
        assert "Zoë" not in str([e.details for e in events])


def test_the_decisions_sent_first_stop_their_clock_and_are_read_into_the_store(
    case: tuple[Path, str, sessionmaker[Session]], tmp_path: Path
) -> None:
    """Handbook: decisions within 5 working days, the record within 15. Marking the decisions
    sent stops only their clock, names the IRO in the audit and reads the filled decisions
    table, so they count before the record comes; the record given later replaces them."""
    sessions = case[2]
    assert iro(case, tmp_path, "review", "held", "C-300-R3", "--date", "2026-10-01").returncode == 0
    filled = tmp_path / "decisions.docx"
    filled.write_bytes(fill_decisions(draft(sessions, "C-300-R3"), DECISIONS[:1]))
    done = iro(case, tmp_path, "review", "decisions-sent", "C-300-R3", "--date", "2026-10-07",
               "--file", str(filled), "--actor", IRO, "--distribute")
    assert done.returncode == 0, done.stderr
    assert "P-2 parent: review decisions by email" in done.stdout  # shown, not planned
    assert ("nothing is sent until you run `iro review distribute C-300-R3 --decisions` with "
            "--confirm") in done.stdout
    # 2, 5, 6, 7 October: four working days after Thursday 1 October
    assert "decisions 2026-10-07, 4 working days after the meeting (in time)" in done.stdout
    assert "1 decision(s) read from the decisions" in done.stdout
    again = iro(case, tmp_path, "review", "decisions-sent", "C-300-R3", "--date", "2026-10-08",
                "--actor", IRO)
    assert again.returncode != 0 and "already recorded on 2026-10-07" in again.stderr
    with sessions() as s:
        review = review_by_ref(s, "C-300-R3")
        assert review.decisions_sent_on == D("2026-10-07") and review.recorded_on is None
        assert review.status == "held" and review.record_file is None
        assert [d.action for d in s.scalars(select(ReviewDecision))] == [DECISIONS[0][1]]
        met = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.decisions_met")
                        ).one()
        assert met.actor == IRO and met.details["in_time"] is True
        kept = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_decisions.returned")).one()
        assert kept.actor == IRO and kept.details["decisions"] == 1
    assert (tmp_path / "documents" / "C-300" / "C-300-R3" / "record" / "decisions.docx").exists()
    with sessions() as s:
        assert s.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_decisions.distributed")).all() == []
    # the decisions alone go to the distribution list, shown first, planned once on --confirm
    shown = iro(case, tmp_path, "review", "distribute", "C-300-R3", "--decisions")
    assert shown.returncode == 0, shown.stderr
    assert "P-1 child: letter of what was decided by post" in shown.stdout
    assert "P-2 parent: review decisions by email" in shown.stdout
    assert "nothing is sent until you run this again with --confirm" in shown.stdout
    for planned in ("3 copies planned", "0 copies planned"):
        sent = iro(case, tmp_path, "review", "distribute", "C-300-R3", "--decisions",
                   "--confirm", "--by", IRO)
        assert sent.returncode == 0 and planned in sent.stdout, sent.stderr
    assert "(already planned)" in sent.stdout
    record = tmp_path / "record.docx"
    record.write_bytes(fill_decisions(draft(sessions, "C-300-R3"), DECISIONS))
    done = iro(case, tmp_path, "review", "recorded", "C-300-R3", "--date", "2026-10-20",
               "--file", str(record), "--actor", IRO)
    assert done.returncode == 0 and "2 decision(s) read from the record" in done.stdout
