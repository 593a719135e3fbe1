"""A small, fictional service for the web tests: accounts of every role, cases, letters, an
escalation and a held review, relative to a given day (so a live server can use the real date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from factories import make_child, make_participant, make_review
from sqlalchemy.orm import Session, sessionmaker

from workers.config.directory import Directory
from workers.config.rules import Rules
from workers.core.clock import FixedClock
from workers.core.workcalendar import WorkingCalendar
from workers.escalation.policy import Policy
from workers.escalation.service import EscalationService
from workers.reviews.service import mark_held
from workers.store.models import Dispatch
from workers.web.accounts import add_user

PASSWORD = "correct horse battery"
SUPPORT = "bs.officer@council.example.gov.uk"
IRO = "daniel.hughes@council.example.gov.uk"
OTHER_IRO = "aisha.rahman@council.example.gov.uk"
DEPUTY = "martin.greene@council.example.gov.uk"  # stage_managers.deputy_manager
GROUP = "olivia.bennett@council.example.gov.uk"  # stage_managers.group_manager
IRO_MANAGER = "patricia.okafor@council.example.gov.uk"  # directory.yaml iro_manager
CHILD_GIVEN, CHILD_FAMILY = "Zoë", "Quillfeather"  # a name that must never appear in a URL


@dataclass(frozen=True)
class Seeded:
    ready_review: str  # planned, preflight passes: send its invitations
    broken_review: str  # planned, preflight fails (an unconfirmed personal address)
    other_review: str  # another IRO's child
    held_review: str  # held 30 days ago: write-ups overdue
    my_child: str
    other_child: str
    escalation_id: int  # Daniel's, at the deputy manager's stage
    failed_dispatch_id: int


def seed(sessions: sessionmaker[Session], rules: Rules, directory: Directory,
         calendar: WorkingCalendar, today: dt.date) -> Seeded:
    clock = FixedClock.on(today)
    meeting = dt.datetime.combine(today + dt.timedelta(days=42), dt.time(10), dt.UTC)
    with sessions() as session:
        for email, role in ((SUPPORT, "business_support"), (IRO, "iro"), (OTHER_IRO, "iro"),
                            (DEPUTY, "manager"), (GROUP, "manager"), (IRO_MANAGER, "manager")):
            add_user(session, email, role, PASSWORD, actor="test")
        mine = make_child(session, given_name=CHILD_GIVEN, family_name=CHILD_FAMILY,
                          iro_email=IRO, team="north_lac", date_of_birth=dt.date(2014, 5, 2))
        ready = make_review(session, mine, scheduled_at=meeting,
                            due_on=meeting.date() + dt.timedelta(days=3))
        make_participant(session, ready, "child", channel="post")
        make_participant(session, ready, "parent", channel="post")
        make_participant(session, ready, "carer", organisation="Smith & Sons Fostering")
        make_participant(session, ready, "social_worker")

        theirs = make_child(session, iro_email=OTHER_IRO, team="south_lac")
        broken = make_review(session, theirs, scheduled_at=meeting,
                             due_on=meeting.date() + dt.timedelta(days=3))
        make_participant(session, broken, "parent", email="someone@mailbox.example.com")

        held_child = make_child(session, iro_email=IRO, team="north_lac")
        held_day = today - dt.timedelta(days=30)
        held = make_review(session, held_child,
                           scheduled_at=dt.datetime.combine(held_day, dt.time(10), dt.UTC),
                           due_on=held_day + dt.timedelta(days=2))
        make_participant(session, held, "social_worker")
        session.flush()
        mark_held(session, rules, directory, calendar, held.ref, held_day, participation="PN1",
                  today=today, now=clock.now(), confirm=True)  # held_day may be a Sunday

        failed = Dispatch(key=f"{broken.ref}/test/failed", kind="mailout_invitation",
                          channel="email", state="failed", review_id=broken.id,
                          recipient="someone@mailbox.example.com", attempts=3,
                          last_error="the mail server refused the address (550)",
                          due_at=clock.now())
        session.add(failed)
        session.flush()
        svc = EscalationService(session, Policy.from_rules(rules.escalation, calendar), directory,
                                clock=clock)
        esc = svc.raise_(mine.ref, concern="The pathway plan has not been updated since March.",
                         category="pathway_plan_not_updated", stage="deputy_manager")
        session.commit()
        return Seeded(ready.ref, broken.ref, broken.ref, held.ref, mine.ref, theirs.ref, esc.id,
                      failed.id)
