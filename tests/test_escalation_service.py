"""The escalation service on a real migrated store (SQLite, and PostgreSQL), with the shipped
rules.yaml and directory.yaml: rows, steps, deadlines, audit events and planned dispatches."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import make_child, make_review, postgres_store, sqlite_store
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from workers.config.directory import Directory, load_directory
from workers.config.rules import load_rules
from workers.core.clock import FixedClock
from workers.core.workcalendar import WorkingCalendar
from workers.errors import NotFoundError, RefusedError
from workers.escalation.policy import Policy
from workers.escalation.service import EscalationService, commit_refusal
from workers.store.models import AuditEvent, Deadline, Dispatch, EscalationStep

CONFIG = Path(__file__).resolve().parent.parent / "config"
D = dt.date
MON = D(2026, 3, 2)
IRO = "daniel.hughes@council.example.gov.uk"
TEAM_MANAGER = "samuel.adeyemi@council.example.gov.uk"
DEPUTY = "martin.greene@council.example.gov.uk"
GROUP = "olivia.bennett@council.example.gov.uk"
HEAD = "richard.osei@council.example.gov.uk"
CAFCASS = "iro.referrals@cafcass.gov.uk"
IRO_MANAGER = "patricia.okafor@council.example.gov.uk"
CONCERN = "Ellie's PEP has not been recorded since she moved to 4 Birch Close"


def shipped() -> tuple[Policy, Directory]:
    rules = load_rules(CONFIG / "rules.yaml")
    policy = Policy.from_rules(rules.escalation, WorkingCalendar.from_rules(rules.calendar))
    return policy, load_directory(CONFIG / "directory.yaml")


@pytest.fixture
def store(tmp_path: Path) -> sessionmaker[Session]:
    return sqlite_store(tmp_path)


def service(session: Session, today: dt.date = MON) -> EscalationService:
    policy, directory = shipped()
    return EscalationService(session, policy, directory, clock=FixedClock.on(today))


def dispatch_keys(session: Session) -> list[str]:
    return sorted(session.scalars(select(Dispatch.key)))


def test_raise_records_the_escalation_and_plans_the_informal_alert(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        review = make_review(session, child)
        esc = service(session).raise_(
            child.ref, concern=CONCERN, category="pep_not_recorded", review_ref=review.ref
        )
        esc_id = esc.id
    with store() as session:
        esc = service(session).get(esc_id)
        assert (esc.stage, esc.status, esc.response_due_on) == ("informal", "open", D(2026, 3, 9))
        assert esc.review_id is not None and esc.iro_email == IRO
        assert dispatch_keys(session) == [
            f"ESC-{esc_id}/stage/informal/cc/{IRO}",
            f"ESC-{esc_id}/stage/informal/to/{TEAM_MANAGER}",
        ]
        d = session.scalars(select(Dispatch).where(Dispatch.recipient == TEAM_MANAGER)).one()
        assert (d.kind, d.state, d.channel, d.escalation_id) == (
            "escalation_notice",
            "pending",
            "email",
            esc_id,
        )
        assert d.params["template"] == "escalation_informal"
        deadlines = {x.key: x.due_on for x in session.scalars(select(Deadline))}
        assert deadlines == {
            f"ESC-{esc_id}/response/informal": D(2026, 3, 9),
            f"ESC-{esc_id}/ceiling": D(2026, 3, 30),
        }
        events = list(session.scalars(select(AuditEvent)))
        assert {e.action for e in events} == {"escalation.raised", "dispatch.planned"}
        for e in events:
            assert "Birch" not in str(e.details) and "PEP has" not in str(e.details)


def test_advance_copies_the_iro_and_those_below_and_bypass_skips(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        svc = service(session)
        esc = svc.raise_(child.ref, concern=CONCERN, category="other")
        svc.advance(esc.id, on=D(2026, 3, 4))
        deputy = [k for k in dispatch_keys(session) if "/stage/deputy_manager/" in k]
        assert deputy == sorted(
            f"ESC-{esc.id}/stage/deputy_manager/{r}"
            for r in (f"to/{DEPUTY}", f"cc/{IRO}", f"cc/{TEAM_MANAGER}")
        )
        svc.advance(esc.id, to="head_of_service", on=D(2026, 3, 5))
        head = [k for k in dispatch_keys(session) if "/stage/head_of_service/" in k]
        assert head == sorted(
            f"ESC-{esc.id}/stage/head_of_service/{r}"
            for r in (
                f"cc/{DEPUTY}",
                f"cc/{GROUP}",
                f"cc/{IRO}",
                f"cc/{TEAM_MANAGER}",
                f"to/{HEAD}",
            )
        )
        steps = [(s.action, s.stage) for s in session.scalars(select(EscalationStep))]
        assert steps == [
            ("raised", "informal"),
            ("advanced", "deputy_manager"),
            ("bypassed", "head_of_service"),
        ]
        assert session.scalar(select(func.count(Dispatch.id))) == 2 + 3 + 5


def test_cafcass_referral_alongside_and_the_response_meets_the_deadline(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        svc = service(session)
        esc = svc.raise_(child.ref, concern=CONCERN, category="other", stage="deputy_manager")
        svc.refer_cafcass(esc.id, on=D(2026, 3, 3))
        svc.respond(esc.id, text="We will record it", by=DEPUTY, on=D(2026, 3, 6))
        assert esc.stage == "deputy_manager" and esc.cafcass_referred_on == D(2026, 3, 3)
        cafcass = [k for k in dispatch_keys(session) if "/stage/cafcass/" in k]
        assert cafcass == sorted(
            f"ESC-{esc.id}/stage/cafcass/{r}"
            for r in (f"to/{CAFCASS}", f"cc/{IRO}", f"cc/{TEAM_MANAGER}", f"cc/{DEPUTY}")
        )
        d = session.scalars(
            select(Deadline).where(Deadline.key == f"ESC-{esc.id}/response/deputy_manager")
        ).one()
        assert (d.met_on, d.working_days_taken, d.in_time) == (D(2026, 3, 6), 4, True)


def test_resolve_by_someone_else_is_refused_and_audited_and_changes_nothing(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        esc_id = service(session).raise_(child.ref, concern=CONCERN, category="other").id
    session = store()
    with pytest.raises(RefusedError, match="only the IRO who raised"):
        try:
            service(session).resolve(esc_id, outcome="done", by=DEPUTY, on=D(2026, 3, 4))
        except RefusedError:
            commit_refusal(session)
            raise
    session.close()
    with store.begin() as session:
        svc = service(session)
        assert svc.get(esc_id).status == "open"
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "escalation.resolve_refused")
        ).one()
        assert (refused.actor, refused.subject_id) == (DEPUTY, esc_id)
        svc.resolve(esc_id, outcome="PEP recorded", by=IRO_MANAGER, on=D(2026, 3, 5))
    with store() as session:
        esc = service(session).get(esc_id)
        assert (esc.status, esc.resolved_stage, esc.resolved_by) == (
            "resolved",
            "informal",
            IRO_MANAGER,
        )
        assert [s.action for s in esc.steps] == ["raised", "resolved"]


def test_tick_tells_the_iro_once_and_flags_the_ceiling(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        svc = service(session)
        esc = svc.raise_(child.ref, concern=CONCERN, category="other")
        for day in (D(2026, 3, 10), D(2026, 3, 11), D(2026, 3, 31), D(2026, 4, 1)):
            svc.tick(esc, day)
        keys = [k for k in dispatch_keys(session) if "/stage/" not in k]
        assert keys == [
            f"ESC-{esc.id}/ceiling/cc/{IRO_MANAGER}",
            f"ESC-{esc.id}/ceiling/to/{IRO}",
            f"ESC-{esc.id}/overdue/informal/to/{IRO}",
        ]
        kinds = set(session.scalars(select(Dispatch.kind).where(Dispatch.key.in_(keys))))
        assert kinds == {"escalation_overdue"}


def test_unknown_child_and_unknown_escalation(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        svc = service(session)
        with pytest.raises(NotFoundError, match="no child 'C-404'"):
            svc.raise_("C-404", concern=CONCERN, category="other")
        with pytest.raises(NotFoundError, match="no escalation 99"):
            svc.advance(99)


@pytest.mark.postgres
def test_the_same_on_postgresql(pg_database: str) -> None:
    store = postgres_store(pg_database)
    with store.begin() as session:
        child = make_child(session, team="south_lac", iro_email=IRO)
        svc = service(session)
        esc = svc.raise_(child.ref, concern=CONCERN, category="other")
        svc.advance(esc.id, on=D(2026, 3, 3))
        svc.resolve(esc.id, outcome="ok", by=IRO, on=D(2026, 3, 4))
    with store() as session:
        assert session.scalar(select(func.count(Dispatch.id))) == 2 + 3
        assert [s.action for s in service(session).get(esc.id).steps] == [
            "raised",
            "advanced",
            "resolved",
        ]
