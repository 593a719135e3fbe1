"""Issue 16 §5, a meeting entered weeks after it was held: no reminder whose day has passed and at
most one overdue notice (which lists every overdue write-up); recording the review as written
calls off the draft record email if it has not gone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from factories import make_child, make_participant, make_review, sqlite_store
from sqlalchemy import select
from test_review_service import CAL, DIRECTORY, IRO, RULES

from workers.core.clock import london_moment
from workers.reviews import service
from workers.reviews.held import PlannedNotice, quiet_for_late_entry
from workers.store.models import Dispatch

D = dt.date.fromisoformat


def test_the_rule_drops_past_reminders_and_all_but_one_past_overdue_notice() -> None:
    notices = [PlannedNotice("r", "review_record", D("2027-01-06"), None, "iro"),
               PlannedNotice("d1", "writeup_reminder", D("2027-01-08"), "decisions", "iro"),
               PlannedNotice("do", "writeup_overdue", D("2027-01-14"), "decisions",
                             "overdue_notice_to"),
               PlannedNotice("r1", "writeup_reminder", D("2027-01-20"), "record", "iro"),
               PlannedNotice("r2", "writeup_reminder", D("2027-02-03"), "record", "iro"),
               PlannedNotice("ro", "writeup_overdue", D("2027-01-28"), "record",
                             "overdue_notice_to")]
    assert [n.key for n in quiet_for_late_entry(notices, D("2027-01-06"))] == [
        "r", "d1", "do", "r1", "r2", "ro"]  # entered on the day: everything as planned
    assert [n.key for n in quiet_for_late_entry(notices, D("2027-01-21"))] == [
        "r", "do", "r2", "ro"]  # the decisions are overdue: one notice; the record's still ahead
    assert [n.key for n in quiet_for_late_entry(notices, D("2027-03-01"))] == ["r", "ro"]


def test_a_meeting_entered_weeks_late_plans_one_overdue_notice_and_no_past_reminder(
        tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        child = make_child(s, iro_email=IRO, looked_after_since=D("2026-05-01"))
        review = make_review(s, child, iro_email=IRO, due_on=D("2026-12-20"), scheduled_at=None)
        make_participant(s, review, "social_worker")
        entered = D("2027-02-15")  # held on 18 December, entered two months later
        service.mark_held(s, RULES, DIRECTORY, CAL, review.ref, D("2026-12-18"),
                          today=entered, now=london_moment(entered, dt.time(9)))
        s.commit()
        rows = s.scalars(select(Dispatch).where(Dispatch.review_id == review.id)).all()
        kinds = sorted(d.kind for d in rows)
        assert kinds == ["review_record", "writeup_overdue"]
        assert all(d.state == "pending" for d in rows)
        # the IRO writes the record up: the draft that never went is called off
        service.stop_writeup(s, CAL, review.ref, "record", entered, today=entered)
        s.commit()
        states = {d.kind: d.state for d in s.scalars(
            select(Dispatch).where(Dispatch.review_id == review.id))}
        assert states == {"review_record": "cancelled", "writeup_overdue": "cancelled"}
