"""Meetings are stored in UTC and said in London time: a review at 00:30 BST is on the next day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from factories import make_child, make_review, sqlite_store

from workers.compose import subject_line


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
