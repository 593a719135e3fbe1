"""`iro report` gains Appendix A when a survey ran: return rates by role and one table per role
with the count of each answer, compared with the answers entered (web and paper), beside the
survey a year before."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from factories import postgres_store, sqlite_store
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from survey_support import ALLOWED, CAFCASS, CAL, CARER_A, ROOT, SECRET, SURVEY, seed_year

from workers.core.clock import LONDON
from workers.report.annual import build_report
from workers.report.document import render_docx
from workers.report.figures import Period
from workers.report.formats import to_csv
from workers.report.tables import report_tables
from workers.store.models import Dispatch, SurveyInvitation
from workers.survey import links
from workers.survey.answers import answer_by_link, key_paper
from workers.survey.start import StartRequest, financial_year, start

YEAR = Period(dt.date(2026, 4, 1), dt.date(2027, 3, 31))


def run_survey(sessions: sessionmaker[Session], name: str, started: dt.datetime) -> None:
    with sessions() as s:
        start(s, SURVEY, CAL, StartRequest(name, ("carer", "social_worker", "guardian"),
                                           started.date() + dt.timedelta(days=40),
                                           financial_year(name)),
              allowed_domains=ALLOWED, cafcass_address=CAFCASS, link_secret=SECRET,
              now=started, actor="bso")
        # as the dispatcher records a send (tests/test_survey_start.py sends them for real)
        s.execute(update(Dispatch).where(Dispatch.kind == "questionnaire",
                                         Dispatch.state == "pending")
                  .values(state="sent", sent_at=started))
        s.commit()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_appendix_a_counts_what_was_entered(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    sessions = (sqlite_store(tmp_path) if backend == "sqlite"
                else postgres_store(request.getfixturevalue("pg_database")))
    seed_year(sessions)
    # last year's survey: the 2025-26 carer (review held 2 Feb 2026) answered on paper
    run_survey(sessions, "2025-26", dt.datetime(2026, 3, 2, 9, tzinfo=LONDON))
    run_survey(sessions, "2026-27", dt.datetime(2027, 3, 1, 9, tzinfo=LONDON))
    today = dt.date(2027, 3, 2)
    with sessions() as s:
        key_paper(s, "2025-26", "carer", {"Q1": "Never", "Q5": "Poor"}, actor="bso",
                  today=today)
        salt = s.scalars(select(SurveyInvitation.salt).join(
            Dispatch, Dispatch.id == SurveyInvitation.dispatch_id).where(
            Dispatch.recipient == CARER_A, Dispatch.key.like("survey/2026-27/%"))).one()
        answer_by_link(s, links.token_for(SECRET, salt),
                       {"Q1": "Always", "Q5": "Excellent", "Q6": "N/A"}, today=today)
        # carer B returned the paper copy
        key_paper(s, "2026-27", "carer", {"Q1": "Always", "Q5": "Good", "Q2": "Usually"},
                  actor="bso", today=today)
        key_paper(s, "2026-27", "social_worker", {"Q6": "Quite well", "Q9": "Good"},
                  actor="bso", today=today)
        s.commit()

    with sessions() as s:
        report = build_report(s, YEAR)
    tables = {t.key: t for t in report_tables(report)}
    # 2026-27 asked 2 carers, 1 social worker, 2 guardians (one through CAFCASS)
    assert tables["survey_returns"].rows == (
        ("Foster carers", 2, 2, "100% (2 of 2)"),
        ("Social workers", 1, 1, "100% (1 of 1)"),
        ("Children's Guardians", 2, 0, "0% (0 of 2)"),
    )
    carers = tables["survey_carer"]
    assert carers.title == "Table A: Foster carers' feedback"
    assert carers.headers == ("Question and answer", "2026-27", "2025-26")
    counts = {row[0]: row[1:] for row in carers.rows}
    assert [counts[f"Q1 {a}"] for a in ("Always", "Usually", "Sometimes", "Occasionally",
                                         "Never")] == [(2, 0), (0, 0), (0, 0), (0, 0), (0, 1)]
    assert counts["Q2 Usually"] == (1, 0)
    assert str(carers.rows[0][0]).startswith("1. Are you informed by the first Review")
    assert carers.rows[0][1:] == ("", "") and carers.rows[1][0] == "Q1 Always"
    assert [counts[f"Q5 {a}"] for a in ("Excellent", "Good", "Fair", "Poor")] == [
        (1, 0), (1, 0), (0, 0), (0, 1)]
    assert counts["Q6 N/A"] == (1, 0)
    assert len(carers.rows) == 6 + 4 * 5 + 4 + 6  # a row per question, then one per answer
    workers_table = tables["survey_social_worker"]
    assert [r[0] for r in workers_table.rows if r[1]] == ["Q6 Quite well", "Q9 Good"]
    # the report's existing count of questionnaire dispatches sees the web return
    assert {r.role: (r.sent, r.returned) for r in report.questionnaires} == {
        "carer": (2, 1), "social_worker": (1, 0), "guardian": (2, 0)}
    assert tables["survey_guardian"].title == "Table C: Children's Guardians' feedback"
    assert "survey_carer,Q1 Always,2026-27,2\n" in to_csv(list(tables.values()))

    document = docx.Document(io.BytesIO(render_docx(report, list(tables.values()),
                                                    ROOT / "templates_docx",
                                                    generated_on=dt.date(2027, 4, 1))))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Appendix A: stakeholder questionnaire returns 2026-27" in text
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "100% (2 of 2)" in cells and "Q6 Quite well" in cells


def test_no_appendix_without_a_survey_in_the_period(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    seed_year(sessions)
    with sessions() as s:
        report = build_report(s, YEAR)
    assert report.survey is None
    assert not [t for t in report_tables(report) if t.key.startswith("survey")]


# The seed's Appendix A (annual report 2013-14), Table A: foster carers' answers, by question.
SEED_TABLE_A = {
    "Q1": {"Always": 24, "Usually": 17, "Sometimes": 1, "Occasionally": 3, "Never": 2},
    "Q2": {"Always": 45, "Usually": 3},
    "Q3": {"Always": 27, "Usually": 16, "Sometimes": 2, "Occasionally": 3},
    "Q4": {"Always": 33, "Usually": 11, "Sometimes": 3, "Occasionally": 1},
    "Q5": {"Excellent": 23, "Good": 21, "Fair": 4, "Poor": 1},
    "Q6": {"Always": 11, "Usually": 14, "Sometimes": 4, "Occasionally": 1, "Never": 5,
           "N/A": 12},
}


def test_the_seeds_table_a_keyed_from_paper_comes_back_in_the_report(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    seed_year(sessions)
    run_survey(sessions, "2026-27", dt.datetime(2027, 3, 1, 9, tzinfo=LONDON))
    # deal each question's answers out over the forms, as business support would key them
    forms: list[dict[str, str]] = [{} for _ in range(49)]  # the seed's Q5 has 49 answers
    for key, counts in SEED_TABLE_A.items():
        answers = [a for a, n in counts.items() for _ in range(n)]
        for form, answer in zip(forms, answers, strict=False):
            form[key] = answer
    with sessions() as s:
        for form in forms:
            key_paper(s, "2026-27", "carer", form, actor="bso", today=dt.date(2027, 3, 2))
        s.commit()
    with sessions() as s:
        tables = {t.key: t for t in report_tables(build_report(s, YEAR))}
    got = {row[0]: row[1] for row in tables["survey_carer"].rows if row[1] != ""}
    for key, counts in SEED_TABLE_A.items():
        for question in SURVEY.questions("carer"):
            if question.key == key:
                for answer in SURVEY.scale_of(question):
                    assert got[f"{key} {answer}"] == counts.get(answer, 0), (key, answer)
    assert tables["survey_returns"].rows[0][2] == 49  # every form keyed is counted returned
