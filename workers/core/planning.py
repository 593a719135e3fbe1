"""Pure planning: the dates a review, its mail-out, its write-up and an escalation must meet.

No database, no clock: callers pass the rules (``workers.config.rules``), a ``WorkingCalendar`` and
the
dates they know, and get small frozen dataclasses back; the store layer turns them into rows.

Which days count:

* review dates are **statutory** — Care Planning, Placement and Case Review (England) Regulations
  2010, reg 33: bank holidays and weekends only, never a council's own closure days;
* mail-out, write-up and escalation dates are the council's **internal** standards (the IRO
  Handbook 2010, ch. 3-5 and the local dispute resolution protocol), so closure days extend them.

The parameter types are Protocols (``workers.core.planning_inputs``) that ``workers.config.rules``
models
and ``WorkingCalendar`` satisfy, so this module needs nothing but the offsets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from workers.config.offsets import Offset
from workers.core.planning_inputs import (
    DeadlineRuleLike,
    EscalationRulesLike,
    LaterTimescalesLike,
    MailoutRulesLike,
    OffsetCalendar,
    PlanningCalendar,
    ReviewTimescalesLike,
    WriteUpRulesLike,
)
from workers.errors import BadInputError, ConfigError

# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedDeadline:
    """A date something must happen by. ``kind`` matches ``Deadline.kind`` in the store."""

    kind: str  # review_due | decisions | record | escalation_response
    started_on: dt.date
    due_on: dt.date
    statutory: bool
    reminders: tuple[dt.date, ...] = ()
    overdue_notice_on: dt.date | None = None  # the working day after due_on, if a notice is sent
    overdue_notice_to: str = ""  # a directory role, e.g. iro_manager


@dataclass(frozen=True)
class PlannedReminder:
    on: dt.date
    to: tuple[str, ...]  # participant roles
    only_if_not_returned: bool


@dataclass(frozen=True)
class MailoutPlan:
    review_on: dt.date
    invitations_on: dt.date
    consultation_forms_on: dt.date
    return_by: dt.date
    reminders: tuple[PlannedReminder, ...]


@dataclass(frozen=True)
class EscalationDates:
    stage: str
    stage_started_on: dt.date
    response_due_on: dt.date | None  # None: the stage has no response timescale (e.g. informal)
    ceiling_on: dt.date  # the whole escalation should be resolved by then


# --- planning ---------------------------------------------------------------------------------


def _resolve(
    field: str,
    offset: Offset,
    calendar: OffsetCalendar,
    anchors: Mapping[str, dt.date | None],
    *,
    statutory: bool,
) -> dt.date:
    """Apply ``offset`` from the date of the event it names, checking the event is one we know."""
    if offset.anchor not in anchors:
        raise ConfigError(
            f"rules.yaml: {field}: '{offset}' counts from {offset.anchor!r}; "
            f"expected one of {sorted(anchors)}"
        )
    anchor_date = anchors[offset.anchor]
    if anchor_date is None:
        raise BadInputError(f"{field}: '{offset}' needs the {offset.anchor} date, which is missing")
    return calendar.apply(offset, anchor_date, statutory)


def statutory_due_date(
    timescales: ReviewTimescalesLike,
    calendar: PlanningCalendar,
    *,
    looked_after_since: dt.date,
    sequence: int,
    previous_review_on: dt.date | None = None,
) -> dt.date:
    """The latest date review number ``sequence`` may be held (reg 33).

    First: within 20 working days of becoming looked after; second: not more than 3 months after
    the first; later: not more than 6 months after the previous. ``previous_review_on`` is the
    date the previous review was *held*, not the date it was due.
    """
    if sequence < 1:
        raise BadInputError(f"review sequence must be 1 or more, got {sequence}")
    if sequence > 1:
        return later_review_due_date(
            timescales,
            calendar,
            sequence=sequence,
            previous_review_on=previous_review_on,
            looked_after_since=looked_after_since,
        )
    anchors = {"looked_after": looked_after_since, "previous_review": previous_review_on}
    return _resolve("review_timescales.first", timescales.first, calendar, anchors, statutory=True)


def later_review_due_date(
    timescales: LaterTimescalesLike,
    calendar: PlanningCalendar,
    *,
    sequence: int,
    previous_review_on: dt.date | None,
    looked_after_since: dt.date | None = None,
) -> dt.date:
    """The latest date of review ``sequence`` (2 or more): reg 33(1)(b)/(c), counted from the date
    the previous review was held."""
    if sequence < 2:
        raise BadInputError(f"a later review's sequence is 2 or more, got {sequence}")
    if sequence == 2:
        field, offset = "review_timescales.second", timescales.second
    else:
        field, offset = "review_timescales.subsequent", timescales.subsequent
    if previous_review_on is None:
        raise BadInputError(
            f"review {sequence}: the date review {sequence - 1} was held is needed (reg 33 counts "
            "from the previous review)"
        )
    anchors = {"looked_after": looked_after_since, "previous_review": previous_review_on}
    return _resolve(field, offset, calendar, anchors, statutory=True)


def review_due_deadline(
    timescales: ReviewTimescalesLike,
    calendar: PlanningCalendar,
    *,
    looked_after_since: dt.date,
    sequence: int,
    previous_review_on: dt.date | None = None,
) -> PlannedDeadline:
    """The statutory ``review_due`` deadline, started on the date its count runs from."""
    due = statutory_due_date(
        timescales,
        calendar,
        looked_after_since=looked_after_since,
        sequence=sequence,
        previous_review_on=previous_review_on,
    )
    started = (
        looked_after_since if sequence == 1 or previous_review_on is None else previous_review_on
    )
    return PlannedDeadline("review_due", started, due, statutory=True)


def overdue_notice_day(due_on: dt.date, calendar: PlanningCalendar) -> dt.date:
    """The first internal working day after an internal deadline: when the overdue notice goes."""
    return calendar.add(due_on, 1, statutory=False)


def write_up_deadline(
    kind: str,
    rule: DeadlineRuleLike,
    calendar: PlanningCalendar,
    *,
    held_on: dt.date,
    overdue_notice_to: str = "",
) -> PlannedDeadline:
    """One write-up deadline (``decisions`` or ``record``) of a review held on ``held_on``, in
    internal working days, with its reminder dates and the day the overdue notice goes.

    """
    due = _resolve(f"write_up.{kind}.due", rule.due, calendar, {"held": held_on}, statutory=False)
    return PlannedDeadline(
        kind,
        held_on,
        due,
        statutory=False,
        reminders=write_up_reminders(kind, rule, calendar, held_on=held_on, due_on=due),
        overdue_notice_on=overdue_notice_day(due, calendar),
        overdue_notice_to=overdue_notice_to,
    )


def write_up_reminders(
    kind: str,
    rule: DeadlineRuleLike,
    calendar: PlanningCalendar,
    *,
    held_on: dt.date,
    due_on: dt.date,
) -> tuple[dt.date, ...]:
    """The reminder days of a write-up deadline, ascending.

    A reminder on or before the meeting day could never be useful, and one on the due date
    itself would arrive with the deadline: only days strictly between the two are kept, and
    two offsets landing on one day make one reminder.
    """
    anchors = {"due": due_on, "held": held_on}
    field = f"write_up.{kind}.reminders"
    days = {_resolve(field, r, calendar, anchors, statutory=False) for r in rule.reminders}
    return tuple(sorted(d for d in days if held_on < d < due_on))


def write_up_deadlines(
    write_up: WriteUpRulesLike, calendar: PlanningCalendar, *, held_on: dt.date
) -> tuple[PlannedDeadline, PlannedDeadline]:
    """The decisions and review-record deadlines of a review held on ``held_on`` (IRO Handbook:
    the record within 15 working days of the meeting)."""
    to = write_up.overdue_notice_to
    return (
        write_up_deadline(
            "decisions", write_up.decisions, calendar, held_on=held_on, overdue_notice_to=to
        ),
        write_up_deadline(
            "record", write_up.record, calendar, held_on=held_on, overdue_notice_to=to
        ),
    )


def mailout_dates(
    mailout: MailoutRulesLike, calendar: PlanningCalendar, *, review_on: dt.date
) -> MailoutPlan:
    """When invitations and consultation forms go, the return-by date and the reminders, for a
    review on ``review_on`` (internal working days: letters are the council's own standard)."""

    def at(field: str, offset: Offset) -> dt.date:
        return mailout_day(field, offset, calendar, review_on=review_on)

    reminders = sorted(
        (
            PlannedReminder(at(f"reminders[{i}].at", r.at), tuple(r.to), r.only_if_not_returned)
            for i, r in enumerate(mailout.reminders)
        ),
        key=lambda r: r.on,
    )
    return MailoutPlan(
        review_on=review_on,
        invitations_on=at("invitations", mailout.invitations),
        consultation_forms_on=at("consultation_forms", mailout.consultation_forms),
        return_by=at("return_by", mailout.return_by),
        reminders=tuple(reminders),
    )


def mailout_day(
    field: str, offset: Offset, calendar: PlanningCalendar, *, review_on: dt.date
) -> dt.date:
    """One mail-out offset (``mailout.<field>``) applied to the review date, in internal days."""
    return _resolve(f"mailout.{field}", offset, calendar, {"review": review_on}, statutory=False)


def response_due_date(
    escalation: EscalationRulesLike,
    calendar: OffsetCalendar,
    *,
    stage: str,
    stage_started_on: dt.date,
    raised_on: dt.date | None = None,
) -> dt.date | None:
    """When the manager at escalation ``stage`` must respond (None: the stage has no response
    timescale, e.g. informal). The local dispute resolution protocol; internal working days."""
    by_key = {s.key: (i, s) for i, s in enumerate(escalation.stages)}
    if stage not in by_key:
        raise BadInputError(f"unknown escalation stage {stage!r}; expected one of {list(by_key)}")
    index, rule = by_key[stage]
    if rule.response_due is None:
        return None
    anchors = {"stage_start": stage_started_on, "raised": raised_on}
    field = f"escalation.stages[{index}].response_due"
    return _resolve(field, rule.response_due, calendar, anchors, statutory=False)


def ceiling_date(
    escalation: EscalationRulesLike, calendar: OffsetCalendar, *, raised_on: dt.date
) -> dt.date:
    """The date the whole escalation should be resolved by (typically 20 working days after it
    was raised; internal working days)."""
    return _resolve(
        "escalation.total_ceiling",
        escalation.total_ceiling,
        calendar,
        {"raised": raised_on},
        statutory=False,
    )


def escalation_dates(
    escalation: EscalationRulesLike,
    calendar: OffsetCalendar,
    *,
    stage: str,
    stage_started_on: dt.date,
    raised_on: dt.date,
) -> EscalationDates:
    """The response due date of an escalation ``stage`` started on ``stage_started_on``, and the
    ceiling for the whole escalation."""
    due = response_due_date(
        escalation,
        calendar,
        stage=stage,
        stage_started_on=stage_started_on,
        raised_on=raised_on,
    )
    return EscalationDates(
        stage, stage_started_on, due, ceiling_date(escalation, calendar, raised_on=raised_on)
    )
