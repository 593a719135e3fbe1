"""Shared by the survey tests: a year of reviews on a migrated store, and a dispatcher."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from factories import make_child, make_participant, make_review
from sqlalchemy.orm import Session, sessionmaker

from workers.config.directory import load_directory
from workers.config.rules import load_rules
from workers.core.clock import FixedClock
from workers.core.workcalendar import WorkingCalendar
from workers.mail.message import Transport
from workers.mail.pause import PauseHooks
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher
from workers.survey import sending
from workers.survey.questions import load_survey

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
SECRET = "test-survey-link-secret-of-32-characters-or-more"
PUBLIC_URL = "https://iro.example.gov.uk"
SURVEY = load_survey(ROOT / "config" / "survey.yaml")
DIRECTORY = load_directory(ROOT / "config" / "directory.yaml")
CAL = WorkingCalendar.from_rules(load_rules(ROOT / "config" / "rules.yaml").calendar)
ALLOWED = ("council.example.gov.uk", "cafcass.gov.uk")
CAFCASS = "iro.referrals@cafcass.gov.uk"
CARER_A = "carer.a@council.example.gov.uk"  # two children reviewed: asked once
CARER_B = "carer.b@council.example.gov.uk"
SOCIAL_WORKER = "sw.one@council.example.gov.uk"  # three reviews: asked once
GUARDIAN = "guardian.one@cafcass.gov.uk"


def seed_year(sessions: sessionmaker[Session]) -> None:
    """Four reviews held in 2026-27 and one the year before (whose people are not asked)."""
    with sessions.begin() as s:
        for n, (held, carer, guardian) in enumerate([
            ("2026-05-04", CARER_A, GUARDIAN),
            ("2026-06-10", CARER_A, None),          # a guardian with no address: via CAFCASS
            ("2026-09-01", CARER_B, None),
            ("2026-10-12", CARER_B, None),
            ("2026-02-02", "old.carer@council.example.gov.uk", None),  # 2025-26: not asked
        ]):
            child = make_child(s, ref=f"C-S{n}")
            review = make_review(s, child, ref=f"R-S{n}", held_on=D(held), status="recorded")
            make_participant(s, review, "carer", ref=f"P-C{n}", email=carer)
            if n < 3:
                make_participant(s, review, "social_worker", ref=f"P-W{n}", email=SOCIAL_WORKER)
            make_participant(s, review, "parent", ref=f"P-P{n}")  # never asked
            if guardian:
                make_participant(s, review, "guardian", ref=f"P-G{n}", email=guardian)
            elif n == 1:
                make_participant(s, review, "guardian", ref=f"P-G{n}", email=None,
                                 channel="post", name="Ann Guardian")


def mail_config() -> sending.SurveyMailConfig:
    return sending.SurveyMailConfig(PUBLIC_URL, SECRET, CAFCASS)


def dispatcher(sessions: sessionmaker[Session], transport: Transport,
               clock: FixedClock) -> Dispatcher:
    sending.register(mail_config)
    return Dispatcher(
        sessions=sessions, transport=transport,
        compose=Composers(ComposeContext(allowed_domains=ALLOWED,
                                         reply_to="iro.service@council.example.gov.uk",
                                         clock=clock)),
        pause=PauseHooks(is_paused=lambda _s: False, pause=lambda _s, _r: False),
        clock=clock,
    )
