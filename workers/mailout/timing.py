"""Dates a letter can keep: a mail-out never asks for a form back before the letter can arrive,
and never goes for a meeting already held.

Pure: the caller gives today, the moment, the working calendar and ``post.days_in_post``
(service.yaml; shipped 2 working days, Royal Mail's first class target is the next working day
and second class within three, so two is a fair allowance). The return date itself comes from
rules.yaml (``mailout.return_by``), counted back from the meeting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from workers.documents.filters import uk_date


class CalendarLike(Protocol):
    def add(self, d: dt.date, n: int, statutory: bool = False) -> dt.date: ...


@dataclass(frozen=True)
class LetterDates:
    """The dates a mail-out used, printed by ``iro mailout``."""

    posted_on: dt.date  # the day the mail-out runs: its letters are emailed or printed then
    arrives_by: dt.date  # a posted letter, ``days_in_post`` working days later
    days_in_post: int
    return_by: dt.date
    review_on: dt.date

    def describe(self, *, by_post: bool, bring_to_meeting: bool = False) -> str:
        arrival = (f"; posted letters arrive by {uk_date(self.arrives_by)} "
                   f"({self.days_in_post} working days in post)" if by_post else "")
        back = ("forms asked for at the meeting (too late for the return date "
                f"{uk_date(self.return_by)})" if bring_to_meeting
                else f"forms back by {uk_date(self.return_by)}")
        return (f"letters dated {uk_date(self.posted_on)}{arrival}; {back}; meeting on "
                f"{uk_date(self.review_on)}")


def letter_dates(calendar: CalendarLike, *, today: dt.date, return_by: dt.date,
                 review_on: dt.date, days_in_post: int) -> LetterDates:
    return LetterDates(today, calendar.add(today, days_in_post), days_in_post, return_by,
                       review_on)


def date_problems(dates: LetterDates, *, meeting_at: dt.datetime | None, now: dt.datetime,
                  by_post: bool, bring_to_meeting: bool = False) -> list[str]:
    """Why these dates cannot go in a letter (empty: they can). ``bring_to_meeting``
    (rules.yaml ``mailout.late_return``): a return date the letters cannot keep is no refusal,
    they ask for the form at the meeting instead (``too_late``); a meeting held always is."""
    held = meeting_at <= now if meeting_at is not None else dates.review_on < dates.posted_on
    if held:
        return [f"the meeting was on {uk_date(dates.review_on)}, before today: a mail-out is "
                "only for a meeting still to come. Record it as held (`iro review held`) or "
                "correct the meeting date on the case record and run the mail-out again"]
    late = too_late(dates, by_post=by_post)
    return [late] if late and not bring_to_meeting else []


def too_late(dates: LetterDates, *, by_post: bool) -> str | None:
    """Why a letter cannot ask for the form back by ``return_by`` (None: it can)."""
    if dates.return_by < dates.posted_on:
        return (f"the return date {uk_date(dates.return_by)} has passed: schedule the meeting "
                "later, set an earlier mailout.return_by in rules.yaml, or set "
                "mailout.late_return: bring_to_meeting to ask for the forms at the meeting")
    if by_post and dates.return_by < dates.arrives_by:
        return (f"letters posted today arrive by {uk_date(dates.arrives_by)} "
                f"({dates.days_in_post} working days in post, service.yaml post.days_in_post), "
                f"after the return date {uk_date(dates.return_by)}: a letter would ask for the "
                "form back before it arrives. Schedule the meeting later, send these letters "
                "by email, or set mailout.late_return: bring_to_meeting in rules.yaml")
    return None
