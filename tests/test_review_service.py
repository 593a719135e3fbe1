"""The review service on a real store (SQLite, PostgreSQL): held, clocks stopped, early review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_child, make_participant, make_review, postgres_store, sqlite_store
from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.config.directory import load_directory
from workers.config.rules import load_rules
from workers.core.clock import london_moment
from workers.core.workcalendar import WorkingCalendar
from workers.errors import BadInputError, RefusedError
from workers.reviews import service
from workers.store.models import AuditEvent, Deadline, Dispatch, Review

D = dt.date.fromisoformat
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
RULES = load_rules(CONFIG_DIR / "rules.yaml")
DIRECTORY = load_directory(CONFIG_DIR / "directory.yaml")
CAL = WorkingCalendar.from_rules(RULES.calendar)
IRO = "aisha.rahman@council.example.gov.uk"
MANAGER = DIRECTORY.iro_manager.email


@pytest.fixture(params=["sqlite", "postgres"])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    if request.param == "sqlite":
        sessions = sqlite_store(tmp_path)
    else:
        sessions = postgres_store(request.getfixturevalue("pg_database"))
    with sessions() as s:
        yield s


def case(session: Session, due: str = "2026-12-20", sequence: int = 2) -> Review:
    child = make_child(session, iro_email=IRO, looked_after_since=D("2026-05-01"))
    review = make_review(
        session, child, iro_email=IRO, due_on=D(due), sequence=sequence, scheduled_at=None
    )
    make_participant(session, review, "child", ref="P-CHILD", email=None, channel="post")
    make_participant(session, review, "parent", ref="P-MUM")
    make_participant(session, review, "carer", ref="P-CARER")
    make_participant(session, review, "social_worker", ref="P-SW")
    return review


def held(session: Session, review: Review, on: str, **kw: object) -> service.HeldResult:
    kw.setdefault("now", london_moment(D(on), dt.time(14)))  # recorded the afternoon it was held
    return service.mark_held(session, RULES, DIRECTORY, CAL, review.ref, D(on), **kw)  # type: ignore[arg-type]


def test_held_starts_the_clocks_plans_the_notices_and_the_next_review(session: Session) -> None:
    review = case(session)
    result = held(session, review, "2026-12-18", participation="pn1", attended=["child", "P-SW"])
    session.commit()

    assert (review.status, review.held_on, review.participation) == ("held", D("2026-12-18"), "PN1")
    assert (review.in_timescale, review.days_late) == (True, 0)
    attended = {p.ref: p.attended for p in review.participants}
    assert attended == {"P-CHILD": True, "P-MUM": False, "P-CARER": False, "P-SW": True}

    deadlines = {
        d.key: (d.kind, d.started_on, d.due_on, d.statutory)
        for d in session.scalars(select(Deadline).order_by(Deadline.id))
    }
    ref = review.ref
    nxt = result.next_review
    assert nxt is not None
    # decisions and record counted in internal days across the 2026 Christmas closure (see
    # tests/test_review_core.py); the next review 6 months on, invitations 15 days before it
    assert deadlines == {
        f"{ref}/writeup/decisions": ("decisions", D("2026-12-18"), D("2027-01-05"), False),
        f"{ref}/writeup/record": ("record", D("2026-12-18"), D("2027-01-19"), False),
        f"{nxt.ref}/mailout": ("mailout", D("2026-12-18"), D("2027-05-27"), False),
    }
    dispatches = {
        d.key: (d.kind, d.recipient, d.due_at.isoformat(), d.state)
        for d in session.scalars(select(Dispatch).order_by(Dispatch.id))
    }
    draft = dispatches.pop(f"{ref}/review_record")
    assert draft[:2] == ("review_record", IRO)
    assert dispatches == {
        f"{ref}/writeup/decisions/reminder/2027-01-04": (
            "writeup_reminder", IRO, "2027-01-04T08:00:00+00:00", "pending"),
        f"{ref}/writeup/decisions/overdue": (
            "writeup_overdue", MANAGER, "2027-01-06T08:00:00+00:00", "pending"),
        f"{ref}/writeup/record/reminder/2027-01-12": (
            "writeup_reminder", IRO, "2027-01-12T08:00:00+00:00", "pending"),
        f"{ref}/writeup/record/reminder/2027-01-18": (
            "writeup_reminder", IRO, "2027-01-18T08:00:00+00:00", "pending"),
        f"{ref}/writeup/record/overdue": (
            "writeup_overdue", MANAGER, "2027-01-20T08:00:00+00:00", "pending"),
    }  # fmt: skip
    assert result.dispatches_planned == 6

    assert (nxt.sequence, nxt.due_on, nxt.status, nxt.iro_email) == (
        3,
        D("2027-06-18"),
        "planned",
        IRO,
    )
    assert sorted((p.ref, p.role, p.attended) for p in nxt.participants) == [
        ("P-CARER", "carer", None),
        ("P-CHILD", "child", None),
        ("P-MUM", "parent", None),
        ("P-SW", "social_worker", None),
    ]
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("dispatch.planned") == 6 and actions[-1] == "review.held"
    details = session.scalars(select(AuditEvent).where(AuditEvent.action == "review.held")).one()
    assert details.details["next_review_ref"] == nxt.ref
    assert "Zoë" not in str(details.details) and "O'Neil" not in str(details.details)


def test_held_twice_is_refused_and_changes_nothing(session: Session) -> None:
    review = case(session)
    held(session, review, "2026-12-18")
    session.commit()
    before = session.scalar(select(Dispatch.id).order_by(Dispatch.id.desc()).limit(1))
    with pytest.raises(RefusedError, match=f"review {review.ref} is already held on 2026-12-18"):
        held(session, review, "2026-12-19")
    assert session.scalar(select(Dispatch.id).order_by(Dispatch.id.desc()).limit(1)) == before


def test_a_review_held_late_is_out_of_timescale_with_days_late(session: Session) -> None:
    review = case(session, due="2027-03-22")
    held(session, review, "2027-03-24")
    assert (review.in_timescale, review.days_late) == (False, 2)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"participation": "PN9"}, "--participation 'PN9': not an SSDA903 code"),
        ({"attended": ["P-NOBODY"]}, "--attended P-NOBODY: not a participant ref or role"),
        ({"today": D("2026-12-17")}, "is in the future"),
    ],
)
def test_bad_held_input_names_the_flag(session: Session, kw: dict, message: str) -> None:  # type: ignore[type-arg]
    review = case(session)
    with pytest.raises(BadInputError, match=message):
        held(session, review, "2026-12-18", **kw)


def test_record_written_late_and_decisions_in_time_stop_the_clocks(session: Session) -> None:
    review = case(session)
    held(session, review, "2026-12-18")
    session.commit()

    decisions = service.stop_writeup(session, CAL, review.ref, "decisions", D("2027-01-05"))
    record = service.stop_writeup(session, CAL, review.ref, "record", D("2027-01-21"))
    session.commit()
    assert (decisions.working_days_taken, decisions.in_time) == (5, True)
    # 19 Jan was day 15: 20 (16), 21 (17)
    assert (record.working_days_taken, record.in_time) == (17, False)
    assert (review.decisions_sent_on, review.recorded_on, review.status) == (
        D("2027-01-05"),
        D("2027-01-21"),
        "recorded",
    )
    rows = {
        d.kind: (d.met_on, d.working_days_taken, d.in_time)
        for d in session.scalars(select(Deadline))
    }
    assert rows["record"] == (D("2027-01-21"), 17, False)
    states = {
        d.key.removeprefix(review.ref + "/"): d.state for d in session.scalars(select(Dispatch))
    }
    # what no worker had claimed is called off; the draft record is not part of a clock
    assert states == {
        "review_record": "pending",
        "writeup/decisions/reminder/2027-01-04": "cancelled",
        "writeup/decisions/overdue": "cancelled",
        "writeup/record/reminder/2027-01-12": "cancelled",
        "writeup/record/reminder/2027-01-18": "cancelled",
        "writeup/record/overdue": "cancelled",
    }
    with pytest.raises(RefusedError, match="already recorded on 2027-01-21"):
        service.stop_writeup(session, CAL, review.ref, "record", D("2027-01-22"))


def test_clock_stopped_before_held_is_refused(session: Session) -> None:
    review = case(session)
    with pytest.raises(RefusedError, match="has not been marked held"):
        service.stop_writeup(session, CAL, review.ref, "record", D("2027-01-21"))
    held(session, review, "2026-12-18")
    with pytest.raises(BadInputError, match="before the review was held"):
        service.stop_writeup(session, CAL, review.ref, "record", D("2026-12-17"))


def test_next_review_already_imported_is_reused_not_duplicated(session: Session) -> None:
    review = case(session)
    imported = make_review(
        session, review.child, ref="R-CMS-77", sequence=3, due_on=D("2027-06-30"), iro_email=IRO
    )
    result = held(session, review, "2026-12-18")
    assert result.next_review is imported
    assert imported.due_on == D("2027-06-18")  # counted from the day actually held
    assert len(review.child.reviews) == 2


def test_no_next_review_for_a_child_who_has_left_care(session: Session) -> None:
    review = case(session)
    review.child.ceased_on = D("2026-12-18")
    result = held(session, review, "2026-12-18")
    assert result.next_review is None and result.plan.next is None


def test_schedule_an_earlier_review(session: Session) -> None:
    review = case(session)
    held(session, review, "2026-12-18")
    child_ref = review.child.ref
    early = service.schedule_early(
        session, RULES, CAL, child_ref, D("2027-05-04"), today=D("2027-04-01")
    )
    assert early.requested_early and early.sequence == 3 and early.due_on == D("2027-06-18")
    assert early.scheduled_at == dt.datetime(2027, 5, 4, 9, 0, tzinfo=dt.UTC)  # 10am BST
    mailout = session.scalars(select(Deadline).where(Deadline.kind == "mailout")).one()
    assert mailout.due_on == D("2027-04-12")  # 15 internal working days before 4 May
    with pytest.raises(RefusedError, match="after the statutory date 2027-06-18"):
        service.schedule_early(session, RULES, CAL, child_ref, D("2027-06-21"))
