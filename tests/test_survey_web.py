"""The survey's answer page: no sign-in, no personal data, CSRF-checked, and a link that works
once — through the FastAPI app's TestClient on a migrated store."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from factories import postgres_store, sqlite_store
from fastapi.testclient import TestClient
from mailout_support import CAL, CONFIG, DIRECTORY, RULES
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from survey_support import ALLOWED, CAFCASS, CARER_A, SECRET, SURVEY, seed_year

from workers.config.settings import load_settings
from workers.core.clock import LONDON, FixedClock
from workers.store.models import Dispatch, Return, SurveyInvitation, SurveyResponse
from workers.survey import links
from workers.survey.start import StartRequest, financial_year, start
from workers.web.app import create_app

TODAY = dt.date(2026, 12, 8)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def started(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Start the survey; the link token of each address asked."""
    seed_year(sessions)
    with sessions() as s:
        start(s, SURVEY, CAL, StartRequest("2026-27", ("carer", "social_worker", "guardian"),
                                           dt.date(2027, 1, 29), financial_year("2026-27")),
              allowed_domains=ALLOWED, cafcass_address=CAFCASS, link_secret=SECRET,
              now=dt.datetime(2026, 12, 7, 9, tzinfo=LONDON), actor="bso")
        s.commit()
        rows = s.execute(select(Dispatch.recipient, SurveyInvitation.salt)
                         .join(SurveyInvitation, SurveyInvitation.dispatch_id == Dispatch.id))
        return {address: links.token_for(SECRET, salt) for address, salt in rows}


def client(tmp_path: Path, sessions: sessionmaker[Session], today: dt.date) -> TestClient:
    settings = load_settings(CONFIG, environ={"IRO_DOCUMENTS_DIR": str(tmp_path / "documents")})
    app = create_app(settings, rules=RULES, directory=DIRECTORY, calendar=CAL,
                     sessions=sessions, clock=FixedClock.on(today), pdf=False)
    return TestClient(app)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_answer_once_through_the_link(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    sessions = (sqlite_store(tmp_path) if backend == "sqlite"
                else postgres_store(request.getfixturevalue("pg_database")))
    tokens = started(sessions)
    web = client(tmp_path, sessions, TODAY)
    url = f"/survey/{tokens[CARER_A]}"

    page = web.get(url)
    assert page.status_code == 200
    html = page.text
    assert "Are you informed by the first Review of the IRO" in html  # table A's questions
    assert html.count('type="radio"') == 4 * 5 + 4 + 6  # Q1-Q4 frequency, Q5 quality, Q6 with N/A
    for personal in (CARER_A, "Zoë", "O&#39;Neil", "Test Carer", "R-S0", "C-S0"):
        assert personal not in html  # no one's name, address or reference
    csrf = _CSRF.search(html)
    assert csrf
    answers = {"q_Q1": "Always", "q_Q5": "Good", "q_Q6": "N/A"}

    forged = web.post(url, data=answers)  # no CSRF token: refused, nothing kept
    assert forged.status_code == 403
    wrong = web.post(url, data={**answers, "q_Q5": "Always", "csrf_token": csrf[1]})
    assert wrong.status_code == 400 and "is not an answer" in wrong.text
    with sessions() as s:
        assert s.scalar(select(func.count(SurveyResponse.id))) == 0

    done = web.post(url, data={**answers, "csrf_token": csrf[1]})
    assert done.status_code == 200 and "Thank you" in done.text
    again = web.post(url, data={**answers, "csrf_token": csrf[1]})
    assert again.status_code == 409 and "used already" in again.text
    assert web.get(url).status_code == 409
    with sessions() as s:
        response = s.scalars(select(SurveyResponse)).one()
        assert (response.role, response.channel, response.answers) == (
            "carer", "web", {"Q1": "Always", "Q5": "Good", "Q6": "N/A"})
        returned = s.scalars(select(SurveyInvitation).where(
            SurveyInvitation.returned_on.is_not(None))).one()
        assert returned.returned_on == TODAY
        assert s.scalar(select(func.count(Return.id))) == 1  # the report's return count

    assert web.get("/survey/not-a-real-token").status_code == 404
    closed = client(tmp_path, sessions, dt.date(2027, 1, 30))
    shut = closed.get(f"/survey/{tokens['carer.b@council.example.gov.uk']}")
    assert shut.status_code == 409 and "closed on 29 January 2027" in shut.text


def test_the_access_log_never_carries_a_link_token() -> None:
    import logging

    from workers.web.survey import RedactLinks

    # uvicorn's access log record: client, method, path, http version, status
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0,
                               '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "POST",
                                                          "/survey/AbC-12_x", "1.1", 200), None)
    RedactLinks().filter(record)
    assert "AbC-12_x" not in record.getMessage() and "/survey/…" in record.getMessage()


def test_the_managers_report_page_shows_appendix_a(tmp_path: Path) -> None:
    from web_client import Browser, make_app
    from web_seed import DEPUTY

    from workers.survey.answers import key_paper

    app, _ = make_app(tmp_path)
    sessions = app.state.web.sessions
    started(sessions)
    with sessions() as s:
        key_paper(s, "2026-27", "guardian", {"Q5": "Excellent"}, actor="bso", today=TODAY)
        s.commit()
    b = Browser(app)
    b.sign_in(DEPUTY)
    page = b.get("/manager/report?start=2026-04-01&end=2027-03-31").text
    assert "Appendix A: stakeholder questionnaire returns 2026-27" in page
    assert "Table C: Children&#39;s Guardians&#39; feedback" in page
    assert "Q5 Excellent" in page
