"""The pure review rules, against dates worked out by hand.

Calendar: England and Wales bank holidays (2026: 25 Dec, 28 Dec; 2027: 1 Jan, 26 Mar Good Friday,
29 Mar Easter Monday, 3 May, 31 May, 30 Aug, 27 Dec, 28 Dec) and two local Christmas closures,
24 Dec 2025 - 1 Jan 2026 and 24 Dec 2026 - 1 Jan 2027, which extend internal deadlines only.
Each expected date has a comment counting the working days: "27(1) 30(2)" means 27th is day 1.
"""

# ruff: noqa: E501  (the hand counts in the tables read best on one line each)

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from workers.config.offsets import Offset, parse_offset
from workers.core.workcalendar import WorkingCalendar
from workers.reviews.clock import start_clocks, stop_clock
from workers.reviews.held import plan_held, send_at
from workers.reviews.timescale import (
    early_review,
    latest_meeting_date,
    next_review,
    review_kind,
    timeliness,
)

D = dt.date.fromisoformat


def closure(start: str, end: str) -> list[dt.date]:
    first, last = D(start), D(end)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


CAL = WorkingCalendar(
    "GB", "ENG", closure("2025-12-24", "2026-01-01") + closure("2026-12-24", "2027-01-01")
)


@dataclass(frozen=True)
class Rule:
    due: Offset
    reminders: list[Offset] = field(default_factory=list)


@dataclass(frozen=True)
class WriteUp:
    decisions: Rule
    record: Rule


@dataclass(frozen=True)
class Timescales:
    second: Offset
    subsequent: Offset


@dataclass(frozen=True)
class Mailout:
    invitations: Offset


@dataclass(frozen=True)
class Rules:
    review_timescales: Timescales
    mailout: Mailout
    write_up: WriteUp


off = parse_offset
RULES = Rules(
    Timescales(off("3 months after previous_review"), off("6 months after previous_review")),
    Mailout(off("15 working days before review")),
    WriteUp(
        Rule(off("5 working days after held"), [off("1 working day before due")]),
        Rule(
            off("15 working days after held"),
            [off("5 working days before due"), off("1 working day before due")],
        ),
    ),
)

# held_on, decisions due, its reminders, its overdue day, record due, its reminders, its overdue day
WRITE_UPS = [
    # Thu 26 Nov 2026. Decisions: 27(1) 30(2) Dec 1(3) 2(4) 3(5). Record: ... 3(5) 4(6) 7(7) 8(8)
    # 9(9) 10(10) 11(11) 14(12) 15(13) 16(14) 17(15); 5 before 17 Dec: 16 15 14 11 10.
    ("2026-11-26", "2026-12-03", ["2026-12-02"], "2026-12-04",
     "2026-12-17", ["2026-12-10", "2026-12-16"], "2026-12-18"),
    # Fri 18 Dec 2026, across the closure (24 Dec - 1 Jan; 25 and 28 Dec bank holidays):
    # decisions 21(1) 22(2) 23(3) Jan 4(4) 5(5) (statutory it would be 29 Dec); record ... 5(5)
    # 6(6) 7(7) 8(8) 11(9) 12(10) 13(11) 14(12) 15(13) 18(14) 19(15); 5 before 19 Jan: 18 15 14 13 12.
    ("2026-12-18", "2027-01-05", ["2027-01-04"], "2027-01-06",
     "2027-01-19", ["2027-01-12", "2027-01-18"], "2027-01-20"),
    # Wed 24 Mar 2027, across Easter (26 and 29 Mar): decisions 25(1) 30(2) 31(3) Apr 1(4) 2(5);
    # record ... 2(5) 5(6) 6(7) 7(8) 8(9) 9(10) 12(11) 13(12) 14(13) 15(14) 16(15); 5 before: 15 14 13 12 9.
    # Overdue on Mon 5 Apr and Mon 19 Apr.
    ("2027-03-24", "2027-04-02", ["2027-04-01"], "2027-04-05",
     "2027-04-16", ["2027-04-09", "2027-04-15"], "2027-04-19"),
    # Thu 26 Aug 2027, across the summer bank holiday (30 Aug): decisions 27(1) 31(2) Sep 1(3) 2(4)
    # 3(5); record 6(6) 7(7) 8(8) 9(9) 10(10) 13(11) 14(12) 15(13) 16(14) 17(15); 5 before: 16 15 14 13 10.
    ("2027-08-26", "2027-09-03", ["2027-09-02"], "2027-09-06",
     "2027-09-17", ["2027-09-10", "2027-09-16"], "2027-09-20"),
    # Wed 30 Sep 2026: decisions Oct 1(1) 2(2) 5(3) 6(4) 7(5); record 8(6) 9(7) 12(8) 13(9) 14(10)
    # 15(11) 16(12) 19(13) 20(14) 21(15); 5 before 21 Oct: 20 19 16 15 14.
    ("2026-09-30", "2026-10-07", ["2026-10-06"], "2026-10-08",
     "2026-10-21", ["2026-10-14", "2026-10-20"], "2026-10-22"),
    # Mon 15 Dec 2025, across the 2025 closure (24 Dec 2025 - 1 Jan 2026; 25, 26 Dec and 1 Jan bank
    # holidays): decisions 16(1) 17(2) 18(3) 19(4) 22(5); record 23(6) Jan 2(7) 5(8) 6(9) 7(10) 8(11)
    # 9(12) 12(13) 13(14) 14(15); 5 before 14 Jan: 13 12 9 8 7; overdue Thu 15 Jan.
    ("2025-12-15", "2025-12-22", ["2025-12-19"], "2025-12-23",
     "2026-01-14", ["2026-01-07", "2026-01-13"], "2026-01-15"),
]  # fmt: skip


@pytest.mark.parametrize("row", WRITE_UPS, ids=[r[0] for r in WRITE_UPS])
def test_write_up_clocks(row: tuple) -> None:  # type: ignore[type-arg]
    held, d_due, d_rem, d_over, r_due, r_rem, r_over = row
    decisions, record = start_clocks(RULES.write_up, D(held), CAL)
    assert (decisions.kind, record.kind) == ("decisions", "record")
    assert decisions.started_on == record.started_on == D(held)
    assert decisions.due_on == D(d_due)
    assert decisions.reminders == tuple(map(D, d_rem))
    assert decisions.overdue_on == D(d_over)
    assert record.due_on == D(r_due)
    assert record.reminders == tuple(map(D, r_rem))
    assert record.overdue_on == D(r_over)


def test_closure_extends_write_up_but_not_statutory_count() -> None:
    # 18 Dec 2026 + 5 statutory working days: 21 22 23 24 29 (25 and 28 are bank holidays).
    assert CAL.add(D("2026-12-18"), 5, statutory=True) == D("2026-12-29")
    (decisions, _) = start_clocks(RULES.write_up, D("2026-12-18"), CAL)
    assert decisions.due_on == D("2027-01-05")


def test_reminders_outside_the_clock_are_dropped() -> None:
    rules = WriteUp(
        Rule(off("2 working days after held"), [off("5 working days before due")]),
        Rule(off("3 working days after held"), [off("1 working day before due")] * 2),
    )
    decisions, record = start_clocks(rules, D("2027-02-01"), CAL)
    assert decisions.reminders == ()  # 5 before 3 Feb is before the meeting
    assert record.reminders == (D("2027-02-03"),)  # duplicates are one reminder


# held sequence, held on, next due (statutory), planned meeting, invitations (15 internal days before)
NEXT_REVIEWS = [
    # first held 26 Nov 2026 -> second within 3 months: Fri 26 Feb 2027; invitations 15 before 26 Feb:
    # 25(1) 24 23 22 19(5) 18 17 16 15(9) 12(10) 11 10 9 8(14) 5(15)
    (1, "2026-11-26", "2027-02-26", "2027-02-26", "2027-02-05"),
    # second held 26 Feb 2027 -> 6 months: Thu 26 Aug 2027; 15 before: 25(1) 24 23 20(4) 19 18 17 16(8)
    # 13(9) 12 11 10 9(13) 6(14) 5(15)
    (2, "2027-02-26", "2027-08-26", "2027-08-26", "2027-08-05"),
    # third held 26 Aug 2027 -> Sat 26 Feb 2028; meeting Fri 25 Feb; 15 before 25 Feb: 24(1) 23 22 21(4)
    # 18(5) 17 16 15 14(9) 11(10) 10 9 8 7(14) 4(15)
    (3, "2027-08-26", "2028-02-26", "2028-02-25", "2028-02-04"),
    # held 18 Dec 2026 -> Fri 18 Jun 2027; 15 before: 17(1) 16 15 14(4) 11(5) 10 9 8 7(9) 4(10) 3 2 1(13)
    # (31 May bank holiday) 28 May(14) 27 May(15)
    (3, "2026-12-18", "2027-06-18", "2027-06-18", "2027-05-27"),
    # month end: held Tue 31 Aug 2027 -> 29 Feb 2028 (leap year); 15 before 29 Feb: 28(1) 25 24 23 22(5)
    # 21(6) 18 17 16 15(10) 14(11) 11 10 9(14) 8(15)
    (4, "2027-08-31", "2028-02-29", "2028-02-29", "2028-02-08"),
    # first held 30 Sep 2026 -> Wed 30 Dec 2026: a statutory working day but a closure day, so the
    # meeting is the last open day before: 29 closed, 28 and 25 bank holidays, 24 closed -> Wed 23 Dec;
    # 15 before 23 Dec: 22(1) 21(2) 18 17 16 15 14(7) 11 10 9 8 7(12) 4(13) 3(14) 2(15)
    (1, "2026-09-30", "2026-12-30", "2026-12-23", "2026-12-02"),
    # first held 30 Nov 2026 + 3 months = Sun 28 Feb 2027:
    # meeting Fri 26 Feb, invitations 5 Feb (as above)
    (1, "2026-11-30", "2027-02-28", "2027-02-26", "2027-02-05"),
]


@pytest.mark.parametrize("row", NEXT_REVIEWS, ids=[f"{r[0]}-{r[1]}" for r in NEXT_REVIEWS])
def test_next_review(row: tuple[int, str, str, str, str]) -> None:
    sequence, held, due, meeting, invitations = row
    planned = next_review(
        RULES.review_timescales, RULES.mailout, CAL, held_sequence=sequence, held_on=D(held)
    )
    assert planned.sequence == sequence + 1
    assert planned.kind == ("second" if sequence == 1 else "subsequent")
    assert planned.due_on == D(due)
    assert planned.meeting_on == D(meeting)
    assert planned.invitations_on == D(invitations)


def test_a_year_of_reviews_for_one_child_chains_from_the_held_dates() -> None:
    held = [D("2026-11-26"), D("2027-02-24"), D("2027-08-20")]  # each a little early
    dues = []
    for sequence, day in enumerate(held, start=1):
        planned = next_review(
            RULES.review_timescales, RULES.mailout, CAL, held_sequence=sequence, held_on=day
        )
        dues.append(planned.due_on)
    # counted from the day actually held, not the previous due date
    assert dues == [D("2027-02-26"), D("2027-08-24"), D("2028-02-20")]


@pytest.mark.parametrize(
    ("sequence", "kind"), [(1, "first"), (2, "second"), (3, "subsequent"), (9, "subsequent")]
)
def test_review_kind(sequence: int, kind: str) -> None:
    assert review_kind(sequence) == kind


def test_review_kind_rejects_zero() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        review_kind(0)


@pytest.mark.parametrize(
    ("held", "due", "in_timescale", "days_late"),
    [
        ("2027-03-22", "2027-03-22", True, 0),
        ("2027-03-01", "2027-03-22", True, 0),
        ("2027-03-24", "2027-03-22", False, 2),
        ("2027-01-04", "2026-12-30", False, 5),  # late across the closure: calendar days
    ],
)
def test_timeliness(held: str, due: str, in_timescale: bool, days_late: int) -> None:
    result = timeliness(D(held), D(due))
    assert (result.in_timescale, result.days_late) == (in_timescale, days_late)


@pytest.mark.parametrize(
    ("started", "due", "met", "taken", "in_time"),
    [
        ("2026-12-18", "2027-01-05", "2027-01-05", 5, True),  # decisions on the day
        # record late: 19 Jan was day 15; 20(16) 21(17)
        ("2026-12-18", "2027-01-19", "2027-01-21", 17, False),
        ("2026-11-26", "2026-12-17", "2026-12-10", 10, True),  # 27 30 1 2 3 4 7 8 9 10
        ("2026-11-26", "2026-12-03", "2026-11-26", 0, True),  # same day
        ("2027-03-24", "2027-04-02", "2027-04-03", 5, False),  # a Saturday: still 5, but late
    ],
)
def test_stop_clock(started: str, due: str, met: str, taken: int, in_time: bool) -> None:
    stop = stop_clock(D(started), D(due), D(met), CAL)
    assert (stop.met_on, stop.working_days_taken, stop.in_time) == (D(met), taken, in_time)


def test_stop_clock_before_the_meeting_is_refused() -> None:
    with pytest.raises(ValueError, match="before the review was held"):
        stop_clock(D("2027-01-05"), D("2027-01-12"), D("2027-01-04"), CAL)


def test_latest_meeting_date_skips_closures_and_weekends() -> None:
    assert latest_meeting_date(D("2027-01-01"), CAL) == D("2026-12-23")
    assert latest_meeting_date(D("2027-05-31"), CAL) == D("2027-05-28")
    assert latest_meeting_date(D("2027-06-18"), CAL) == D("2027-06-18")


def test_early_review() -> None:
    # 15 before Tue 4 May 2027 (3 May bank holiday): 30 Apr(1) 29 28 27 26(5) 23 22 21 20 19(10)
    # 16 15 14 13(14) 12(15)
    planned = early_review(
        RULES.mailout, CAL, sequence=4, due_on=D("2027-06-18"), requested_on=D("2027-05-04")
    )
    assert (planned.due_on, planned.meeting_on, planned.invitations_on) == (
        D("2027-06-18"),
        D("2027-05-04"),
        D("2027-04-12"),
    )
    assert planned.kind == "subsequent"


@pytest.mark.parametrize(
    ("requested", "message"),
    [
        ("2027-06-21", "after the statutory date 2027-06-18"),
        ("2027-05-31", "not a working day"),
        ("2026-12-29", "not a working day"),
        ("2026-11-02", "in the past"),
    ],
)
def test_early_review_refusals(requested: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        early_review(
            RULES.mailout,
            CAL,
            sequence=4,
            due_on=D("2027-06-18"),
            requested_on=D(requested),
            today=D("2026-11-26"),
        )


def test_plan_held_keys_and_order() -> None:
    plan = plan_held(
        RULES,
        CAL,
        review_ref="R-1042",
        sequence=3,
        due_on=D("2026-12-20"),
        held_on=D("2026-12-18"),
    )
    assert plan.timeliness.in_timescale
    assert [(n.key, n.kind, n.on.isoformat(), n.to) for n in plan.notices] == [
        ("R-1042/review_record", "review_record", "2026-12-18", "iro"),
        ("R-1042/writeup/decisions/reminder/2027-01-04", "writeup_reminder", "2027-01-04", "iro"),
        ("R-1042/writeup/decisions/overdue", "writeup_overdue", "2027-01-06", "overdue_notice_to"),
        ("R-1042/writeup/record/reminder/2027-01-12", "writeup_reminder", "2027-01-12", "iro"),
        ("R-1042/writeup/record/reminder/2027-01-18", "writeup_reminder", "2027-01-18", "iro"),
        ("R-1042/writeup/record/overdue", "writeup_overdue", "2027-01-20", "overdue_notice_to"),
    ]
    assert plan.next is not None and plan.next.due_on == D("2027-06-18")


def test_plan_held_for_a_child_no_longer_looked_after_plans_no_next_review() -> None:
    plan = plan_held(
        RULES,
        CAL,
        review_ref="R-9",
        sequence=2,
        due_on=D("2027-03-22"),
        held_on=D("2027-03-24"),
        ceased_on=D("2027-03-24"),
    )
    assert plan.next is None
    assert (plan.timeliness.in_timescale, plan.timeliness.days_late) == (False, 2)


@pytest.mark.parametrize(
    ("day", "utc"),
    [("2027-01-12", "2027-01-12T08:00:00+00:00"), ("2027-06-18", "2027-06-18T07:00:00+00:00")],
)
def test_send_at_is_eight_in_the_morning_london_time(day: str, utc: str) -> None:
    assert send_at(D(day)).isoformat() == utc
