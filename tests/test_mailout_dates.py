"""Dates a letter can keep (FixedClock): a mail-out is refused, with nothing queued, when its
return date has passed, when a posted letter would arrive after it (service.yaml
``post.days_in_post``, shipped 2 working days), or when the meeting has been held; and
``iro mailout`` prints the dates it used."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from factories import make_case, make_participant, make_review, sqlite_store
from mailout_support import CAL, make_config
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from workers.core.clock import FixedClock
from workers.errors import PreflightError
from workers.mailout.service import run_mailout
from workers.mailout.timing import date_problems, letter_dates
from workers.store.models import Dispatch

# The factories' reviews meet on Tuesday 12 January 2027 at 10:00; rules.yaml's return date is
# 3 working days before: Thursday 7 January 2027.
RETURN_BY = dt.date(2027, 1, 7)


def test_return_date_arithmetic_counts_working_days_in_post() -> None:
    # posted on a Friday: two working days in post is the Tuesday
    dates = letter_dates(CAL, today=dt.date(2027, 1, 8), return_by=dt.date(2027, 1, 12),
                         review_on=dt.date(2027, 1, 15), days_in_post=2)
    assert dates.arrives_by == dt.date(2027, 1, 12)
    now = dt.datetime(2027, 1, 8, 9, tzinfo=dt.UTC)
    meeting = dt.datetime(2027, 1, 15, 10, tzinfo=dt.UTC)
    assert date_problems(dates, meeting_at=meeting, now=now, by_post=True) == []
    # over Christmas: the bank holidays and the council's closure days are not working days
    dates = letter_dates(CAL, today=dt.date(2026, 12, 23), return_by=dt.date(2027, 1, 4),
                         review_on=dt.date(2027, 1, 8), days_in_post=2)
    assert dates.arrives_by == dt.date(2027, 1, 5)
    assert "arrive by 5 January 2027" in date_problems(dates, meeting_at=None, now=now,
                                                        by_post=True)[0]
    assert date_problems(dates, meeting_at=None, now=now, by_post=False) == []


def _case(tmp_path: Path, *, by_post: bool = True) -> tuple[sessionmaker[Session], str]:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        if by_post:
            review = make_case(s)  # the child and a parent by post
        else:
            review = make_review(s)
            make_participant(s, review, "parent")
            make_participant(s, review, "carer")
        ref = review.ref
        s.commit()
    return sessions, ref


def _queued(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count(Dispatch.id))) or 0


@pytest.mark.parametrize(("today", "why"), [
    (dt.date(2027, 1, 8), "the return date 7 January 2027 has passed"),  # two days before
    (dt.date(2027, 1, 6), "arrive by 8 January 2027 (2 working days in post"),
    (dt.date(2027, 1, 13), "the meeting was on 12 January 2027"),  # the day after
])
def test_a_mailout_whose_dates_cannot_be_kept_is_refused(tmp_path: Path, today: dt.date,
                                                         why: str) -> None:
    sessions, ref = _case(tmp_path)
    with pytest.raises(PreflightError, match="nothing was sent") as refused:
        run_mailout(sessions, make_config(tmp_path, today=today), ref)
    assert why in str(refused.value)
    assert _queued(sessions) == 0


def test_a_meeting_earlier_today_is_held(tmp_path: Path) -> None:
    sessions, ref = _case(tmp_path, by_post=False)
    cfg = make_config(tmp_path, today=dt.date(2027, 1, 12))
    later = FixedClock(dt.datetime(2027, 1, 12, 11, tzinfo=dt.UTC))  # the meeting was at 10:00
    with pytest.raises(PreflightError, match="the meeting was on 12 January 2027"):
        run_mailout(sessions, replace(cfg, clock=later), ref)


def test_email_only_mailout_may_go_the_day_before_the_return_date(tmp_path: Path) -> None:
    sessions, ref = _case(tmp_path, by_post=False)
    result = run_mailout(sessions, make_config(tmp_path, today=dt.date(2027, 1, 6)), ref)
    assert result.created > 0 and result.dates is not None
    assert result.dates.return_by == RETURN_BY


def test_more_days_in_post_are_a_setting(tmp_path: Path) -> None:
    sessions, ref = _case(tmp_path)
    cfg = make_config(tmp_path, today=dt.date(2027, 1, 4), IRO_POST_DAYS_IN_POST="4")
    with pytest.raises(PreflightError, match="arrive by 8 January 2027 \\(4 working days"):
        run_mailout(sessions, cfg, ref)
    ok = run_mailout(sessions, make_config(tmp_path, today=dt.date(2027, 1, 4)), ref)
    assert ok.created > 0


def test_an_iro_missing_from_the_directory_is_refused_with_the_fix(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_review(s, iro_email="sessional.iro@agency.example.com")
        make_participant(s, review, "parent")
        ref = review.ref
        s.commit()
    with pytest.raises(PreflightError, match="sessional.iro@agency.example.com.*not in "
                       "directory.yaml.*add them under iros:"):
        run_mailout(sessions, make_config(tmp_path), ref)
    assert _queued(sessions) == 0


@pytest.mark.parametrize(("today", "reworded"), [
    (dt.date(2027, 1, 8), {"child", "parent", "carer", "social_worker"}),  # date passed: all
    (dt.date(2027, 1, 6), {"child", "parent"}),  # only the posted letters cannot arrive in time
])
def test_late_return_can_ask_for_the_form_at_the_meeting_instead(
        tmp_path: Path, today: dt.date, reworded: set[str]) -> None:
    from test_documents_support import docx_text

    from workers.mailout.compose import dispatch_context, letter_parts
    from workers.mailout.documents import render_documents
    from workers.store.models import Participant

    sessions, ref = _case(tmp_path)
    cfg = make_config(tmp_path, today=today)
    rules = cfg.rules.model_copy(update={"mailout": cfg.rules.mailout.model_copy(
        update={"late_return": "bring_to_meeting"})})
    result = run_mailout(sessions, replace(cfg, rules=rules), ref)
    assert result.created > 0 and len(result.bring_to_meeting) == len(reworded)
    assert "forms asked for at the meeting" in result.dates.describe(  # type: ignore[union-attr]
        by_post=True, bring_to_meeting=True)
    with sessions() as s:
        letters = s.scalars(select(Dispatch).where(Dispatch.kind == "invitation",
                                                   Dispatch.reference_code.is_not(None))).all()
        for letter in letters:
            review, child, person = letter_parts(s, letter)
            texts = {kind: " ".join(docx_text(data).split()) for kind, data in render_documents(
                cfg, dispatch_context(cfg, letter, review, child, person),
                form=letter.params["form"])}
            everything = " ".join(texts.values())
            role = s.get(Participant, letter.participant_id).role  # type: ignore[union-attr]
            late = role in reworded
            assert bool(letter.params.get("bring_to_meeting")) is late, role
            assert ("7 January 2027" in everything) is not late, role
            if late:
                assert "to the meeting" in texts["invitation"] or "to your meeting" in \
                    texts["invitation"], role
                assert "the meeting (please bring it with you)" in texts["return_instructions"]


def test_a_meeting_held_is_refused_even_when_late_returns_are_reworded(tmp_path: Path) -> None:
    sessions, ref = _case(tmp_path)
    cfg = make_config(tmp_path, today=dt.date(2027, 1, 13))
    rules = cfg.rules.model_copy(update={"mailout": cfg.rules.mailout.model_copy(
        update={"late_return": "bring_to_meeting"})})
    with pytest.raises(PreflightError, match="the meeting was on 12 January 2027"):
        run_mailout(sessions, replace(cfg, rules=rules), ref)
    assert _queued(sessions) == 0
