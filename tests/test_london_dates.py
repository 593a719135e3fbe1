"""Meetings are stored in UTC and said in London time: a review at 00:30 BST is on the next day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from factories import make_child, make_participant, make_review, sqlite_store

from workers.queue.compose import subject_line


def test_the_subject_carries_the_meetings_london_date(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        child = make_child(s, given_name="Amy", family_name="Brown")
        # 00:30 on 11 June 2027 in London is 23:30 on 10 June in UTC
        review = make_review(
            s, child=child, ref="R-77",
            scheduled_at=dt.datetime(2027, 6, 10, 23, 30, tzinfo=dt.UTC),
        )
        assert subject_line(review, "invitation") == "Review R-77 (A.B.) 11 June 2027: invitation"


def test_review_returns_date_reminders_by_londons_day(tmp_path: Path) -> None:
    from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
    from workers.returns.report import review_returns
    from workers.store.models import Dispatch

    sessions = sqlite_store(tmp_path)
    late = dt.datetime(2027, 6, 10, 23, 30, tzinfo=dt.UTC)  # 00:30 BST on 11 June
    with sessions.begin() as s:
        review = make_review(s, ref="R-78")
        person = make_participant(s, review)
        for kind in (INVITATION_KIND, REMINDER_KIND):
            s.add(Dispatch(
                key=f"R-78/{kind}", kind=kind, channel="email", review_id=review.id,
                participant_id=person.id, recipient=person.email or "", due_at=late,
                state="sent", sent_at=late,
            ))
    with sessions() as s:
        rows, _ = review_returns(s, "R-78")
    assert rows[0].reminded == (dt.date(2027, 6, 11),)
