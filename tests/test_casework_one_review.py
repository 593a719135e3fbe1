"""Issue 16 §4: the review `iro review held` plans and the one the case system's next export brings
are one review, in either order: one row under the case system's reference, one mail-out, the
import saying so; and §5: the next review's people are the case as it stands, not the held
review's list. Real SQLite store, shipped rules, the example CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from casework_support import BSO
from factories import sqlite_store
from mailout_support import CAL, DIRECTORY, RULES, make_config
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_import import context, example_rows, to_csv  # noqa: F401 - context is a fixture

from workers.casework.imports import after_import
from workers.core.clock import london_moment
from workers.core.planning import mailout_dates
from workers.importer.rows import ImportContext, parse_reviews_csv
from workers.importer.upsert import upsert_plan
from workers.mailout.plan import INVITATION_KIND
from workers.mailout.service import run_mailout
from workers.reviews import service
from workers.store import keyed
from workers.store.models import AuditEvent, Child, Deadline, Dispatch, Participant, Review

HELD = dt.date(2027, 1, 7)  # R-1001-5's meeting in the example file, a Thursday
NEXT_MEETING = dt.date(2027, 6, 24)  # the case system books the next one


def next_rows(number: int, *, without: str = "") -> list[dict[str, str]]:
    """The case system's export once R-1001-5 is held: R-1001-6 booked for 24 June."""
    rows = []
    for r in example_rows():
        if r["review_ref"] != "R-1001-5" or r["participant_ref"] == without:
            continue
        rows.append({**r, "review_ref": "R-1001-6", "review_number": str(number),
                     "previous_review_date": HELD.isoformat(),
                     "review_date": NEXT_MEETING.isoformat(), "review_time": "14:00"})
    return rows


def do_import(sessions: sessionmaker[Session], rows: list[dict[str, str]],
              context: ImportContext, tmp_path: Path) -> list[str]:  # noqa: F811
    plan = parse_reviews_csv(to_csv(rows), "reviews.csv", context)
    with sessions.begin() as s:
        summary = upsert_plan(s, plan, actor=BSO)
        return after_import(s, summary, make_config(tmp_path, today=HELD), today=HELD,
                            now=london_moment(HELD, dt.time(16)), actor=BSO)


def hold(sessions: sessionmaker[Session]) -> service.HeldResult:
    with sessions.begin() as s:
        return service.mark_held(s, RULES, DIRECTORY, CAL, "R-1001-5", HELD, today=HELD,
                                 now=london_moment(HELD, dt.time(15)), actor=BSO)


def planned_of_child(s: Session) -> list[Review]:
    child = s.scalars(select(Child).where(Child.ref == "C-1001")).one()
    return [r for r in child.reviews if r.status == "planned"]


@pytest.mark.parametrize("number", [6, 7], ids=["same-number", "numbered-otherwise"])
def test_held_first_then_the_import_keeps_one_review_under_the_case_systems_ref(
        tmp_path: Path, context: ImportContext, number: int) -> None:  # noqa: F811
    sessions = sqlite_store(tmp_path)
    do_import(sessions, example_rows(), context, tmp_path)
    result = hold(sessions)
    assert result.next_review is not None
    with sessions() as s:
        assert [r.ref for r in planned_of_child(s)] == ["C-1001-R6"]
    # the case system numbers it 6, or (903 history) 7: matched by number, or by reg 33 date
    lines = do_import(sessions, next_rows(number), context, tmp_path)
    assert lines[0].startswith("review R-1001-6: the review `iro review held` planned as "
                               "C-1001-R6; kept as one review")
    invitations_on = mailout_dates(RULES.mailout, CAL, review_on=NEXT_MEETING).invitations_on
    assert lines[0].endswith(f"invitations from {invitations_on.isoformat()}")
    with sessions() as s:
        [review] = planned_of_child(s)
        assert (review.ref, review.sequence) == ("R-1001-6", number)
        assert review.scheduled_at == london_moment(NEXT_MEETING, dt.time(14))
        keys = set(s.scalars(select(Deadline.key).where(Deadline.review_id == review.id)))
        assert keys == {"R-1001-6/mailout"}
        due = keyed.deadline_by_key(s, "R-1001-6/mailout")
        assert due is not None and due.due_on == invitations_on
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.adopted")).one()
        assert event.actor == BSO and event.details["previous_ref"] == "C-1001-R6"
    # one family, one pack each
    done = run_mailout(sessions, make_config(tmp_path, today=invitations_on), "R-1001-6")
    with sessions() as s:
        invitations = s.scalars(select(Dispatch).where(Dispatch.kind == INVITATION_KIND,
                                                       Dispatch.review_id == review.id)).all()
        assert done.created > 0 and len(invitations) == 5
        assert all(d.key.startswith("R-1001-6/") for d in invitations)
    # importing the same export again changes nothing and says nothing
    assert do_import(sessions, next_rows(number), context, tmp_path) == []


def test_the_import_first_then_held_uses_the_case_systems_review_and_its_people(
        tmp_path: Path, context: ImportContext) -> None:  # noqa: F811
    sessions = sqlite_store(tmp_path)
    # the case system books R-1001-6 before R-1001-5 is held; the advocate's part has ended
    do_import(sessions, example_rows() + next_rows(6, without="P-5005"), context, tmp_path)
    result = hold(sessions)
    assert result.next_review is not None and result.next_review.ref == "R-1001-6"
    with sessions() as s:
        [review] = planned_of_child(s)
        assert review.ref == "R-1001-6" and review.due_on == result.plan.next.due_on  # type: ignore[union-attr]
        people = s.scalars(select(Participant.ref).where(Participant.review_id == review.id))
        assert sorted(people) == ["P-5001", "P-5002", "P-5003", "P-5004"]  # no P-5005
        assert keyed.deadline_by_key(s, "R-1001-6/mailout") is not None
        assert s.scalars(select(Review).where(Review.ref == "C-1001-R6")).first() is None

