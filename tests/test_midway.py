"""Midway checks between reviews (issue 20 §2) on a SQLite store: planned by the scheduler's scan,
reminded, moved with the next review, superseded when it is held first, recorded through the real
`iro midway record` (a concern escalated in one step), listed by `iro deadlines` and counted by
`iro report quarterly`.

Worked by hand (England, October 2026 has no bank holiday and no closure): review held Thu 1 Oct
2026, next due Mon 2 Nov. Working days after 1 Oct up to 2 Nov: 2 Oct (1), 5-9 (6), 12-16 (11),
19-23 (16), 26-30 (21), 2 Nov (22). Halfway: 11 working days after 1 Oct is Fri 16 Oct; the
reminder 5 working days before it, Fri 9 Oct.
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
from factories import make_child, make_review, sqlite_store, sqlite_url
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from workers.cli.context import AppContext
from workers.core.clock import FixedClock, london_moment
from workers.documents.contexts import Letterhead
from workers.midway import reminder, scan
from workers.queue.compose import ComposeContext
from workers.reviews.notices import NoticeConfig
from workers.store.models import AuditEvent, Deadline, Dispatch, Escalation, MidwayCheck, Review

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
IRO = "daniel.hughes@council.example.gov.uk"
CHECK_DUE, REMINDER_ON = D("2026-10-16"), D("2026-10-09")


def config(today: dt.date) -> NoticeConfig:
    app = AppContext(config_dir=ROOT / "config")
    return NoticeConfig(app.rules, app.directory, app.calendar, app.settings.templates_dir,
                        "Independent Reviewing Service",
                        letterhead=Letterhead.from_settings(app.settings.letterhead),
                        clock=FixedClock.on(today))


@pytest.fixture
def case(tmp_path: Path) -> tuple[sessionmaker[Session], str, str, str]:
    """A child whose third review was held on 1 Oct 2026 and whose fourth is due 2 Nov."""
    sessions = sqlite_store(tmp_path)
    with sessions() as session:
        child = make_child(session, iro_email=IRO, team="north_lac", given_name="Zoë",
                           family_name="O'Neil")
        held = make_review(session, child, sequence=3, status="held", held_on=D("2026-10-01"),
                           due_on=D("2026-10-05"))
        nxt = make_review(session, child, sequence=4, due_on=D("2026-11-02"), scheduled_at=None)
        session.commit()
        return sessions, child.ref, held.ref, nxt.ref


def checks(session: Session) -> list[Deadline]:
    return list(session.scalars(select(Deadline).where(Deadline.kind == "midway")))


def reminders(session: Session) -> list[Dispatch]:
    return list(session.scalars(select(Dispatch).where(Dispatch.kind == "midway_reminder")
                                .order_by(Dispatch.id)))


def test_planned_halfway_with_a_reminder_once(case: tuple) -> None:
    sessions, _child, held, _nxt = case
    today = D("2026-10-02")
    assert scan.scan(sessions, config(today), today) == 2  # the check and its reminder
    assert scan.scan(sessions, config(today), today) == 0  # idempotent
    with sessions() as session:
        [check] = checks(session)
        assert (check.key, check.due_on, check.started_on) == (f"{held}/midway", CHECK_DUE,
                                                                D("2026-10-01"))
        [sent] = reminders(session)
        assert sent.recipient == IRO and sent.state == "pending"
        assert sent.due_at == london_moment(REMINDER_ON, dt.time(8))


def test_entered_late_no_reminder_for_a_day_gone(case: tuple) -> None:
    sessions, *_ = case
    today = D("2026-10-12")
    scan.scan(sessions, config(today), today)
    with sessions() as session:
        assert [c.due_on for c in checks(session)] == [CHECK_DUE]
        assert reminders(session) == []


def test_moves_with_the_next_review_and_goes_when_it_is_held_first(case: tuple) -> None:
    sessions, _child, held, nxt = case
    today = D("2026-10-02")
    scan.scan(sessions, config(today), today)
    with sessions() as session:
        session.scalars(select(Review).where(Review.ref == nxt)).one().due_on = D("2026-11-16")
        session.commit()
    scan.scan(sessions, config(today), today)
    with sessions() as session:
        [check] = checks(session)
        # 32 working days to 16 Nov; halfway, 16 after 1 Oct: Fri 23 Oct; reminder Fri 16 Oct
        assert check.due_on == D("2026-10-23")
        assert [(r.state, r.due_at.date()) for r in reminders(session)] == [
            ("cancelled", REMINDER_ON), ("pending", D("2026-10-16"))]
        following = session.scalars(select(Review).where(Review.ref == nxt)).one()
        following.status, following.held_on = "held", D("2026-10-14")
        session.commit()
    scan.scan(sessions, config(today), today)
    with sessions() as session:
        assert checks(session) == []  # the review itself looked at the decisions
        assert {r.state for r in reminders(session)} == {"cancelled"}


def test_the_reminder_names_no_one(case: tuple) -> None:
    sessions, child, held, _nxt = case
    today = D("2026-10-09")
    scan.scan(sessions, config(today), today)
    with sessions() as session:
        [dispatch] = reminders(session)
        message = reminder.compose(session, dispatch, config(today),
                                   ComposeContext(clock=FixedClock.on(today)))
    assert message.to == IRO
    assert message.subject == f"Midway check for {child} (Z.O.) due 16 October 2026"
    assert "Friday 16 October 2026 (5 working days from today)" in message.body_text
    assert f"held on 1 October 2026 ({held})" in message.body_text
    assert "O'Neil" not in message.subject + message.body_text


def iro(url: str, day: dt.date, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(ROOT / "config"), *args], capture_output=True, text=True,
        env={**os.environ, "IRO_DATABASE_URL": url, **as_of(day)}, timeout=120, cwd=ROOT,
    )


def test_recorded_as_a_concern_and_escalated_in_one_step(case: tuple, tmp_path: Path) -> None:
    sessions, child, held, _nxt = case
    url = sqlite_url(tmp_path)
    scan.scan(sessions, config(D("2026-10-02")), D("2026-10-02"))
    listed = iro(url, D("2026-10-14"), "deadlines", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    kinds = [(i["kind"], i["due_on"]) for i in json.loads(listed.stdout)["items"]]
    assert ("midway", "2026-10-16") in kinds

    done = iro(url, D("2026-10-14"), "midway", "record", child, "--outcome", "concern",
               "--note", "Contact plan not started", "--escalate", "delay_in_review_decisions")
    assert done.returncode == 0, done.stderr
    assert f"midway check after {held} recorded on 2026-10-14 as concern" in done.stdout
    with sessions() as session:
        [check] = checks(session)
        assert (check.met_on, check.in_time, check.working_days_taken) == (
            D("2026-10-14"), True, 9)
        [found] = session.scalars(select(MidwayCheck)).all()
        escalation = session.get(Escalation, found.escalation_id)
        assert escalation is not None and escalation.stage == "informal"
        assert escalation.raised_on == D("2026-10-14") and escalation.review_id == check.review_id
        assert escalation.category == "delay_in_review_decisions"
        assert {r.state for r in reminders(session)} == {"cancelled"}  # reminders stop
        audit = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "midway.recorded")).one()
        assert audit.actor == IRO and "Contact plan" not in json.dumps(audit.details)
    listed = iro(url, D("2026-10-14"), "deadlines", "--format", "json")
    assert "midway" not in [i["kind"] for i in json.loads(listed.stdout)["items"]]

    report = iro(url, D("2026-12-03"), "report", "quarterly", "--quarter", "2026-Q3",
                 "--format", "json")
    assert report.returncode == 0, report.stderr
    midway = json.loads(report.stdout)["midway"]
    assert (midway["due"], midway["done"], midway["done_by_due_date"], midway["concerns"],
            midway["escalated"], midway["overdue_at_end"]) == (1, 1, 1, 1, 1, 0)


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--outcome", "fine"), 2, "on_track, concern"),
    (("--outcome", "on_track", "--escalate", "delay_in_review_decisions"), 2, "--outcome concern"),
    (("--outcome", "on_track", "--on", "2026-09-30"), 2, "before the review it follows"),
    (("--outcome", "on_track", "--on", "2026-10-20"), 2, "after today"),
])
def test_refused_with_the_fix(case: tuple, tmp_path: Path, args: tuple[str, ...], code: int,
                              message: str) -> None:
    _sessions, child, _held, _nxt = case
    done = iro(sqlite_url(tmp_path), D("2026-10-14"), "midway", "record", child, *args)
    assert done.returncode == code and message in done.stderr, done.stderr


def test_no_check_open(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as session:
        child = make_child(session, iro_email=IRO, team="north_lac")
        session.commit()
        ref = child.ref
    done = iro(sqlite_url(tmp_path), D("2026-10-14"), "midway", "record", ref,
               "--outcome", "on_track")
    assert done.returncode == 2 and "no midway check is open" in done.stderr


def test_caseload_shows_the_check_due_then_overdue(case: tuple, tmp_path: Path) -> None:
    sessions, child, held, _nxt = case
    url = sqlite_url(tmp_path)
    scan.scan(sessions, config(D("2026-10-02")), D("2026-10-02"))
    due = iro(url, D("2026-10-14"), "caseload", "--format", "json")
    assert due.returncode == 0, due.stderr
    [line] = json.loads(due.stdout)["iros"][0]["children"]
    assert (line["child_ref"], line["midway"]) == (child, [f"{held} midway check due 2026-10-16"])
    assert line["overdue"] == []
    table = iro(url, D("2026-10-14"), "caseload")
    assert "Midway check" in table.stdout and "midway check due" in table.stdout
    late = iro(url, D("2026-10-19"), "caseload", "--format", "json")
    [line] = json.loads(late.stdout)["iros"][0]["children"]
    assert line["midway"] == [] and line["overdue"] == [f"{held} midway check due 2026-10-16"]
