"""`iro survey start`: one questionnaire per person asked, sent through the dispatcher to a real
SMTP server, and a reminder before it closes only to those who have not answered."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from factories import make_participant, postgres_store, sqlite_store
from fakes.smtp import SmtpServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from survey_support import (
    ALLOWED,
    CAFCASS,
    CAL,
    CARER_A,
    CARER_B,
    GUARDIAN,
    PUBLIC_URL,
    SECRET,
    SOCIAL_WORKER,
    SURVEY,
    D,
    dispatcher,
    seed_year,
)

from workers.core.clock import LONDON, FixedClock
from workers.errors import PreflightError
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue.scheduler import Job as SchedulerJob
from workers.queue.scheduler import Scheduler, enqueue_due
from workers.store.models import AuditEvent, Dispatch, Review, Survey, SurveyInvitation
from workers.survey import links
from workers.survey.start import StartRequest, financial_year, start

REQUEST = StartRequest("2026-27", ("carer", "social_worker", "guardian"), D("2027-01-29"),
                       financial_year("2026-27"))
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)


def run_start(sessions: sessionmaker[Session], *, dry_run: bool = False):  # type: ignore[no-untyped-def]
    with sessions() as s:
        result = start(s, SURVEY, CAL, REQUEST, allowed_domains=ALLOWED, cafcass_address=CAFCASS,
                       link_secret=SECRET, now=NOW, actor="bso@council.example.gov.uk",
                       dry_run=dry_run)
        s.commit()
    return result


def send_due(sessions: sessionmaker[Session], smtp_server: SmtpServer, when: dt.datetime) -> int:
    clock = FixedClock(when)
    transport = SmtpTransport(SmtpConfig(smtp_server.host, smtp_server.port,
                                         "iro.service@council.example.gov.uk"))
    d = dispatcher(sessions, transport, clock)

    processed: list[int] = []

    def enqueue(ids: list[int]) -> int:
        for i in ids:
            d.process(i)
        processed.extend(ids)
        return len(ids)

    # the scheduler's own scan finds what is due, as in production
    Scheduler(sessions, enqueue, tick_seconds=60, clock=clock).tick(
        jobs=[SchedulerJob("enqueue_due", enqueue_due)])
    transport.close()
    return len(processed)


def link_in(body: str) -> str:
    found = re.search(re.escape(PUBLIC_URL) + r"/survey/([A-Za-z0-9_-]+)", body)
    assert found, body
    return found[1]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_one_questionnaire_each_then_reminders_only_to_those_who_have_not_answered(
    backend: str, tmp_path: Path, smtp_server: SmtpServer, request: pytest.FixtureRequest
) -> None:
    sessions = (sqlite_store(tmp_path) if backend == "sqlite"
                else postgres_store(request.getfixturevalue("pg_database")))
    seed_year(sessions)
    dry = run_start(sessions, dry_run=True)
    with sessions() as s:
        assert s.scalar(select(Dispatch.id)) is None  # a dry run plans nothing
    result = run_start(sessions)
    # carers A and B (two children each), one social worker (three), a guardian with an
    # address and one without (through CAFCASS); the 2025-26 carer and the parents are not asked
    assert sorted((r.role, r.address) for r in result.planned) == sorted([
        ("carer", CARER_A), ("carer", CARER_B), ("social_worker", SOCIAL_WORKER),
        ("guardian", GUARDIAN), ("guardian", CAFCASS)])
    assert [r.who for r in dry.planned] == [r.who for r in result.planned]
    # closes Fri 29 Jan 2027; five working days before: Fri 22 Jan
    assert result.reminder_on == D("2027-01-22")
    assert run_start(sessions).planned == ()  # again: nobody is asked twice

    sent = send_due(sessions, smtp_server, NOW)
    assert sent == 5
    messages = smtp_server.wait_for(5)
    by_address = {m["To"]: m for m in messages}
    assert set(by_address) == {CARER_A, CARER_B, SOCIAL_WORKER, GUARDIAN, CAFCASS}
    body = by_address[CARER_A].get_content()
    token = link_in(body)
    with sessions() as s:
        invitation = s.scalars(select(SurveyInvitation).where(
            SurveyInvitation.token_hash == links.token_hash(token))).one()
        assert invitation.role == "carer"
        assert token not in str(s.scalars(select(SurveyInvitation.salt)).all())
        names = {m["Subject"] for m in messages}
        assert names == {"Independent Reviewing Service: stakeholder questionnaire 2026-27"}
        planned_by = s.scalars(select(AuditEvent.actor).where(
            AuditEvent.action == "dispatch.planned")).all()
        assert set(planned_by) == {"bso@council.example.gov.uk"} and len(planned_by) == 10
        assert s.scalars(select(Dispatch.state).where(Dispatch.kind == "questionnaire")).all() \
            == ["sent"] * 5
        assert len(s.scalars(select(AuditEvent.id).where(
            AuditEvent.action == "dispatch.sent")).all()) == 5
    assert "Ann Guardian" in by_address[CAFCASS].get_content()  # CAFCASS is told whose it is

    # carer A answers (workers.survey.answers marks the return, cancelling the reminder)
    from workers.survey.answers import answer_by_link

    with sessions() as s:
        answer_by_link(s, token, {"Q1": "Always"}, today=D("2026-12-08"))
        s.commit()
    smtp_server.clear()
    assert send_due(sessions, smtp_server, dt.datetime(2027, 1, 21, 17, tzinfo=LONDON)) == 0
    assert send_due(sessions, smtp_server, dt.datetime(2027, 1, 22, 9, tzinfo=LONDON)) == 4
    reminded = {m["To"] for m in smtp_server.wait_for(4)}
    assert reminded == {CARER_B, SOCIAL_WORKER, GUARDIAN, CAFCASS}
    assert all("reminder" in m["Subject"] for m in smtp_server.messages)
    for m in smtp_server.messages:  # a reminder carries the same link as the questionnaire
        assert link_in(m.get_content()) == link_in(by_address[m["To"]].get_content())
    with sessions() as s:
        cancelled = s.scalars(select(Dispatch.key).where(Dispatch.state == "cancelled")).all()
    assert len(cancelled) == 1 and cancelled[0].endswith("/reminder")


def test_an_address_off_the_allow_list_refuses_the_whole_survey(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    seed_year(sessions)
    with sessions.begin() as s:
        review = s.scalars(select(Review).where(Review.ref == "R-S0")).one()
        make_participant(s, review, "carer", ref="P-X", email="someone@gmail.example.com")
    with pytest.raises(PreflightError) as info:
        run_start(sessions)
    assert "participant P-X (carer): email domain is not on the allow-list" in str(info.value)
    assert "gmail" not in str(info.value)  # problems name the reference, not the address
    with sessions() as s:
        assert s.scalar(select(Dispatch.id)) is None


def test_the_workers_install_the_survey_composers(monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.queue import assembly, compose

    monkeypatch.setattr(assembly, "_installed", False)
    assembly.install()
    assert compose.composer_for("questionnaire") and compose.composer_for("survey_reminder")


def test_a_later_run_may_ask_another_role(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    seed_year(sessions)
    for roles in (("carer",), ("carer", "guardian")):
        with sessions() as s:
            result = start(s, SURVEY, CAL, StartRequest("2026-27", roles, REQUEST.closes_on,
                                                         REQUEST.period),
                           allowed_domains=ALLOWED, cafcass_address=CAFCASS, link_secret=SECRET,
                           now=NOW, actor="bso")
            s.commit()
    assert sorted(r.role for r in result.planned) == ["guardian", "guardian"]
    with sessions() as s:
        survey = s.scalars(select(Survey)).one()
        assert survey.roles == "carer,guardian"
        assert set(survey.questions) == {"carer", "guardian"}  # the page can show both
