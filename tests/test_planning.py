"""Pure planning of review dates, write-up deadlines, mail-out dates and escalation responses.

Every expected date is worked out by hand in the comment beside it. The rules are the shipped
defaults of DESIGN.md §2, written as plain values of the shape ``workers.config.rules`` provides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from workers.config.offsets import Offset, parse_offset
from workers.core.planning import (
    PlannedDeadline,
    PlannedReminder,
    escalation_dates,
    mailout_dates,
    review_due_deadline,
    statutory_due_date,
    write_up_deadlines,
)
from workers.core.workcalendar import WorkingCalendar
from workers.errors import BadInputError, ConfigError

D = dt.date.fromisoformat
O = parse_offset  # noqa: E741 - reads like the YAML

# Closed on the working days between Christmas and New Year 2025 (as rules.yaml may say).
CLOSURES = [D("2025-12-29"), D("2025-12-30"), D("2025-12-31"), D("2026-01-02")]


@dataclass(frozen=True)
class Timescales:
    first: Offset = O("20 working days after looked_after")
    second: Offset = O("3 months after previous_review")
    subsequent: Offset = O("6 months after previous_review")


@dataclass(frozen=True)
class Reminder:
    at: Offset
    to: list[str]
    only_if_not_returned: bool = True


@dataclass(frozen=True)
class Mailout:
    invitations: Offset = O("15 working days before review")
    consultation_forms: Offset = O("15 working days before review")
    return_by: Offset = O("3 working days before review")
    reminders: list[Reminder] = field(default_factory=list)


@dataclass(frozen=True)
class DeadlineRule:
    due: Offset
    reminders: list[Offset] = field(default_factory=list)


@dataclass(frozen=True)
class WriteUp:
    decisions: DeadlineRule = DeadlineRule(
        O("5 working days after held"), [O("1 working day before due")]
    )
    record: DeadlineRule = DeadlineRule(
        O("15 working days after held"),
        [O("5 working days before due"), O("1 working day before due")],
    )
    overdue_notice_to: str = "iro_manager"


@dataclass(frozen=True)
class Stage:
    key: str
    response_due: Offset | None


@dataclass(frozen=True)
class Escalation:
    stages: list[Stage]
    total_ceiling: Offset = O("20 working days after raised")


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar(closures=CLOSURES)


# (looked_after_since, sequence, previous_review_on, expected latest date)
DUE_CASES = [
    # first, reg 33(1)(a): Fri 19 Dec 2025 + 20 statutory working days: 22-24 (3), 25/26 BH,
    # 29-31 (6) — closure days count, the regulation knows nothing of them — 1 Jan BH, 2 (7),
    # 5-9 (12), 12-16 (17), 19-21 (20)
    ("2025-12-19", 1, None, "2026-01-21"),
    # Mon 1 Dec 2025: 2-5 (4), 8-12 (9), 15-19 (14), 22-24 (17), 29-31 (20): on a closure day
    ("2025-12-01", 1, None, "2025-12-31"),
    # second, reg 33(1)(b): 3 calendar months after the first was held; 30 Nov + 3 → 28 Feb
    ("2025-11-01", 2, "2025-11-30", "2026-02-28"),
    ("2025-12-19", 2, "2026-01-15", "2026-04-15"),
    # later, reg 33(1)(c): 6 months after the previous; 31 Aug + 6 → 28 Feb (29 in a leap year)
    ("2024-01-01", 3, "2025-08-31", "2026-02-28"),
    ("2022-01-01", 4, "2023-08-31", "2024-02-29"),
    ("2020-01-01", 9, "2026-03-31", "2026-09-30"),
]


@pytest.mark.parametrize(("since", "sequence", "previous", "expected"), DUE_CASES)
def test_statutory_due_date(
    cal: WorkingCalendar, since: str, sequence: int, previous: str | None, expected: str
) -> None:
    due = statutory_due_date(
        Timescales(),
        cal,
        looked_after_since=D(since),
        sequence=sequence,
        previous_review_on=D(previous) if previous else None,
    )
    assert due == D(expected)


def test_statutory_due_date_ignores_closures_that_internal_counting_would_skip(
    cal: WorkingCalendar,
) -> None:
    # Internally, 20 working days from 1 Dec 2025 would land on 7 Jan 2026: 2-5 (4), 8-12 (9),
    # 15-19 (14), 22-24 (17), closure, 5,6,7 (20). The statutory date stays 31 Dec.
    assert cal.add(D("2025-12-01"), 20) == D("2026-01-07")
    due = statutory_due_date(Timescales(), cal, looked_after_since=D("2025-12-01"), sequence=1)
    assert due == D("2025-12-31")


def test_review_due_deadline_starts_from_the_previous_review(cal: WorkingCalendar) -> None:
    planned = review_due_deadline(
        Timescales(),
        cal,
        looked_after_since=D("2024-01-01"),
        sequence=3,
        previous_review_on=D("2025-08-31"),
    )
    assert planned == PlannedDeadline("review_due", D("2025-08-31"), D("2026-02-28"), True)


def test_later_review_without_the_previous_date_is_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(BadInputError, match="review 1 was held"):
        statutory_due_date(Timescales(), cal, looked_after_since=D("2025-01-06"), sequence=2)
    with pytest.raises(BadInputError, match="sequence"):
        statutory_due_date(Timescales(), cal, looked_after_since=D("2025-01-06"), sequence=0)


def test_an_offset_from_an_unknown_event_names_the_rule(cal: WorkingCalendar) -> None:
    bad = Timescales(first=O("20 working days after review"))
    with pytest.raises(ConfigError, match="review_timescales.first"):
        statutory_due_date(bad, cal, looked_after_since=D("2025-01-06"), sequence=1)


def test_write_up_deadlines_across_the_christmas_closure(cal: WorkingCalendar) -> None:
    decisions, record = write_up_deadlines(WriteUp(), cal, held_on=D("2025-12-15"))
    # decisions, 5 internal working days after Mon 15 Dec: 16,17,18,19,22; reminder the day before
    assert decisions == PlannedDeadline(
        "decisions",
        D("2025-12-15"),
        D("2025-12-22"),
        statutory=False,
        reminders=(D("2025-12-19"),),
        overdue_notice_on=D("2025-12-23"),
        overdue_notice_to="iro_manager",
    )
    # record, 15 internal working days: 16-19 (4), 22-24 (7), closure, 5-9 Jan (12), 12-14 (15).
    # Counted statutorily it would be 8 Jan; the closure gives the IRO four more working days.
    # Reminders 5 before (13,12,9,8,7 → 7 Jan) and 1 before (13 Jan); notice on 15 Jan.
    assert record.due_on == D("2026-01-14")
    assert cal.add(D("2025-12-15"), 15, statutory=True) == D("2026-01-08")
    assert record.reminders == (D("2026-01-07"), D("2026-01-13"))
    assert record.overdue_notice_on == D("2026-01-15")
    assert record.statutory is False


def test_write_up_held_just_before_the_closure(cal: WorkingCalendar) -> None:
    # Mon 22 Dec 2025: 23, 24 (2); 25/26 BH; 29-31 closed; 1 BH; 2 closed; 5, 6, 7 (5)
    decisions, _ = write_up_deadlines(WriteUp(), cal, held_on=D("2025-12-22"))
    assert (decisions.due_on, decisions.reminders) == (D("2026-01-07"), (D("2026-01-06"),))


def test_mailout_dates(cal: WorkingCalendar) -> None:
    rules = Mailout(
        reminders=[
            Reminder(O("2 working days before review"), ["social_worker"], False),
            Reminder(O("7 working days before review"), ["parent", "carer"]),
        ]
    )
    plan = mailout_dates(rules, cal, review_on=D("2026-01-14"))
    # 15 internal working days before Wed 14 Jan 2026: 13,12 (2), 9-5 (7), closure and bank
    # holidays skipped, 24-22 (10), 19-15 (15) → Mon 15 Dec
    assert plan.invitations_on == D("2025-12-15")
    assert plan.consultation_forms_on == D("2025-12-15")
    assert plan.return_by == D("2026-01-09")  # 13, 12, 9
    # sorted by date: 7 before (13,12,9,8,7,6,5 → 5 Jan), then 2 before (13, 12 → 12 Jan)
    assert plan.reminders == (
        PlannedReminder(D("2026-01-05"), ("parent", "carer"), True),
        PlannedReminder(D("2026-01-12"), ("social_worker",), False),
    )


def test_escalation_dates(cal: WorkingCalendar) -> None:
    rules = Escalation(
        [Stage("informal", None), Stage("deputy_manager", O("5 working days after stage_start"))]
    )
    dates = escalation_dates(
        rules,
        cal,
        stage="deputy_manager",
        stage_started_on=D("2025-12-22"),
        raised_on=D("2025-12-17"),
    )
    # response: 23, 24 (2), closure, 5, 6, 7 Jan (5).
    # ceiling from Wed 17 Dec: 18, 19 (2), 22-24 (5), 5-9 (10), 12-16 (15), 19-23 (20)
    assert dates.response_due_on == D("2026-01-07")
    assert dates.ceiling_on == D("2026-01-23")
    informal = escalation_dates(
        rules, cal, stage="informal", stage_started_on=D("2025-12-17"), raised_on=D("2025-12-17")
    )
    assert informal.response_due_on is None
    assert informal.ceiling_on == D("2026-01-23")


def test_unknown_escalation_stage(cal: WorkingCalendar) -> None:
    rules = Escalation([Stage("informal", None)])
    with pytest.raises(BadInputError, match="'group_manager'.*informal"):
        escalation_dates(
            rules,
            cal,
            stage="group_manager",
            stage_started_on=D("2025-12-17"),
            raised_on=D("2025-12-17"),
        )


def test_the_shipped_rules_drive_planning(cal: WorkingCalendar) -> None:
    # workers.config.rules models satisfy planning's Protocols; the shipped defaults are DESIGN.md
    # §2's
    from workers.config.rules import load_rules

    rules = load_rules(Path(__file__).resolve().parent.parent / "config" / "rules.yaml")
    first = statutory_due_date(
        rules.review_timescales, cal, looked_after_since=D("2025-12-19"), sequence=1
    )
    assert first == D("2026-01-21")  # as in DUE_CASES
    _, record = write_up_deadlines(rules.write_up, cal, held_on=D("2025-12-15"))
    assert record.due_on == D("2026-01-14")  # as in the Christmas write-up test
    plan = mailout_dates(rules.mailout, cal, review_on=D("2026-01-14"))
    assert plan.invitations_on == D("2025-12-15")
