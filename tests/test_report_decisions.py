"""The annual report counts review decisions overdue (issue 15): decisions read back from a
review's record, each timescale read as a date where it names one, progress read from the next
review's record; overdue is due before today (or the year's end) and not recorded as done.
Counted by hand below; the commands run as if it were 1 December 2026.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import docx
import pytest
from factories import make_child, make_review
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_review_record_decisions import case, draft, fill_decisions, iro  # noqa: F401

from workers.reviews.decision_dates import due_date, is_done
from workers.store.models import Review, ReviewDecision

D = dt.date.fromisoformat
HELD = D("2026-06-03")


@pytest.mark.parametrize(("timescale", "due"), [
    ("By 15 July 2026", "2026-07-15"),
    ("by 15th Jul. 2026", "2026-07-15"),
    ("15/07/2026", "2026-07-15"),
    ("2026-07-15", "2026-07-15"),
    ("Within 6 weeks", "2026-07-15"),
    ("one month", "2026-07-03"),
    ("10 days", "2026-06-13"),
    ("Ongoing", None),
    ("At the next review", None),
    ("10 working days", None),  # no calendar here: not guessed
    ("31 February 2027", None),
])
def test_a_timescale_names_a_date_or_none(timescale: str, due: str | None) -> None:
    assert due_date(timescale, HELD) == (D(due) if due else None)


@pytest.mark.parametrize(("progress", "done"), [
    ("Done", True), ("Completed 2 July", True), ("Achieved: PEP signed off", True),
    ("Not done", False), ("Partly done", False), ("Ongoing", False), ("", False),
    ("Dentist booked, awaiting appointment", False),
])
def test_progress_is_done_only_when_it_says_so(progress: str, done: bool) -> None:
    assert is_done(progress) is done


THIRD = [  # the third review, held 1 October 2026 (the fixture's review, held by the test)
    ("Settled at school", "Update the PEP", "Designated teacher", "By 15 October 2026", "PEP"),
    ("Healthy teeth", "Dental check-up", "Foster carer", "Within 6 weeks", "Attended"),
    ("Family time", "Keep contact going", "Social worker", "Ongoing", "Contact held"),
    ("Independence", "Start a pathway plan", "Social worker", "31/01/2027", "Plan agreed"),
]
FOURTH = [("Swimming", "Join a club", "Foster carer", "Within 1 month", "Goes weekly")]


def _fill_progress(content: bytes, progress: dict[int, str]) -> bytes:
    document = docx.Document(io.BytesIO(content))
    (table,) = [t for t in document.tables if t.rows[0].cells[-1].text == "Progress"]
    for row in table.rows[1:]:
        number = row.cells[0].text.strip()
        if number.isdigit() and int(number) in progress:
            row.cells[-1].paragraphs[0].add_run(progress[int(number)])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_the_annual_report_counts_decisions_overdue(
    case: tuple[Path, str, sessionmaker[Session]], tmp_path: Path  # noqa: F811
) -> None:
    sessions = case[2]
    run = iro
    assert run(case, tmp_path, "review", "held", "C-300-R3", "--date", "2026-10-01"
               ).returncode == 0
    third = tmp_path / "third.docx"
    third.write_bytes(fill_decisions(draft(sessions, "C-300-R3"), THIRD))
    done = run(case, tmp_path, "review", "recorded", "C-300-R3", "--date", "2026-10-20",
               "--file", str(third))
    assert done.returncode == 0, done.stderr
    with sessions.begin() as s:
        fourth = s.scalars(select(Review).where(Review.sequence == 4)).one().ref
        # a review held before the year: its overdue decision is not this year's
        old = make_review(s, make_child(s, ref="C-301"), ref="C-301-R2", status="recorded",
                          held_on=D("2026-03-10"), due_on=D("2026-03-12"))
        s.add(ReviewDecision(review_id=old.id, number=1, action="x", timescale="1 week",
                             due_on=D("2026-03-17")))
    assert run(case, tmp_path, "review", "held", fourth, "--date", "2026-12-01").returncode == 0
    fourth_record = _fill_progress(fill_decisions(draft(sessions, fourth), FOURTH),
                                   {1: "Done: PEP signed off 14 October", 2: "Not done: no "
                                    "dentist had a place", 3: "Going well"})
    record = tmp_path / "fourth.docx"
    record.write_bytes(fourth_record)
    done = run(case, tmp_path, "review", "recorded", fourth, "--date", "2026-12-01",
               "--file", str(record))
    assert done.returncode == 0, done.stderr
    with sessions() as s:
        rows = s.scalars(select(ReviewDecision).join(Review).where(Review.ref == "C-300-R3")
                         .order_by(ReviewDecision.number)).all()
        assert [(r.due_on, r.done) for r in rows] == [
            (D("2026-10-15"), True), (D("2026-11-12"), False), (None, False),
            (D("2027-01-31"), False)]
        assert rows[1].progress == "Not done: no dentist had a place"

    # By hand, as at 1 December 2026, reviews held 1 April 2026 – 31 March 2027:
    # recorded 5 (4 third + 1 fourth); dated 4 (not "Ongoing"); due before 1 December: 2
    # (15 October, 12 November; 31 January and the fourth's 1 January not yet); done 1;
    # overdue 1 (the dental check-up); 50% of those due. C-301's March decision is last year's.
    out = run(case, tmp_path, "report", "--from", "2026-04-01", "--to", "2027-03-31",
              "--format", "csv")
    assert out.returncode == 0, out.stderr
    figures = {row["row"]: row["value"] for row in csv.DictReader(io.StringIO(out.stdout))
               if row["table"] == "decisions"}
    assert figures == {
        "Decisions recorded (reviews held in the period)": "5",
        "With a date (the timescale names one)": "4",
        "No date (\u201congoing\u201d, \u201cnext review\u201d, …)": "1",
        "Due before 1 December 2026": "2",
        "Done, as the next review recorded": "1",
        "Overdue: due and not recorded as done": "1",
        "% of those due that are overdue": "50.0",
    }
    out = run(case, tmp_path, "report", "--from", "2026-04-01", "--to", "2027-03-31",
              "--format", "json")
    decisions = json.loads(out.stdout)["figures"]["decisions"]
    assert (decisions["due"], decisions["done"], decisions["overdue"]) == (2, 1, 1)
    out = run(case, tmp_path, "report", "--from", "2026-04-01", "--to", "2027-03-31")
    assert "Overdue: due and not recorded as done" in out.stdout
    docx_out = tmp_path / "report.docx"
    assert run(case, tmp_path, "report", "--from", "2026-04-01", "--to", "2027-03-31",
               "--format", "docx", "-o", str(docx_out)).returncode == 0
    text = "\n".join(c.text for t in docx.Document(str(docx_out)).tables
                     for r in t.rows for c in r.cells)
    assert "Overdue: due and not recorded as done\n1" in text
