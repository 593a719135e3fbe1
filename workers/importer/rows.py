"""A whole reviews CSV → an ``ImportPlan``, pure. Every error is collected, then all are raised.

Errors read ``line N, column <name>: <reason>``; N is the line where the record starts in the file
(a quoted address may span lines). Values of personal columns are never echoed (DESIGN.md §6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from workers.core.clock import LONDON
from workers.core.planning import ReviewTimescalesLike, statutory_due_date
from workers.core.workcalendar import WorkingCalendar
from workers.errors import BadInputError, ConfigError
from workers.importer import values as v
from workers.importer.format import BY_NAME, CHANNELS, MULTILINE, REF_COLUMNS
from workers.importer.records import (
    ChildRecord,
    ImportPlan,
    ParticipantRecord,
    ReviewRecord,
    RowError,
    raise_errors,
)
from workers.importer.table import read_table
from workers.inputs.refs import ref_problem
from workers.inputs.text import control_problem
from workers.reviews.date_checks import non_working_day

if TYPE_CHECKING:
    from workers.config.directory import Directory
    from workers.config.rules import Rules

T = TypeVar("T")


@dataclass(frozen=True)
class ImportContext:
    """What rows are checked against: rules.yaml roles and timescales, directory teams and IROs."""

    roles: frozenset[str]
    teams: frozenset[str]
    iro_emails: frozenset[str]
    timescales: ReviewTimescalesLike
    calendar: WorkingCalendar

    @classmethod
    def from_config(cls, rules: Rules, directory: Directory,
                    calendar: WorkingCalendar) -> ImportContext:
        """The one way to build it, for `iro import` and the web's import page alike."""
        return cls(
            roles=frozenset(rules.roles),
            teams=frozenset(t.key for t in directory.teams),
            iro_emails=frozenset(p.email.lower() for p in directory.iros),
            timescales=rules.review_timescales,
            calendar=calendar,
        )


# Record field → the CSV column it came from, to name the column of a conflict.
_CHILD_COLUMNS = {
    "given_name": "child_given_name", "family_name": "child_family_name",
    "date_of_birth": "child_dob", "looked_after_since": "looked_after_since", "team": "team",
    "iro_email": "iro_email", "placement": "placement", "legal_status": "legal_status",
}  # fmt: skip
_REVIEW_COLUMNS = {
    "child_ref": "child_ref", "sequence": "review_number",
    "previous_review_on": "previous_review_date", "scheduled_at": "review_date",
    "venue": "venue", "iro_email": "iro_email",
}  # fmt: skip


class _Row:
    """One record's fields, read with their errors collected."""

    def __init__(self, line: int, values: dict[str, str], errors: list[RowError]) -> None:
        self.line, self.values, self.errors = line, values, errors
        self.start = len(errors)

    @property
    def ok(self) -> bool:
        return len(self.errors) == self.start

    def err(self, column: str | None, reason: str) -> None:
        self.errors.append(RowError(self.line, column, reason))

    def text(self, column: str, required: bool = False, why: str = "") -> str:
        value = self.values.get(column, "").strip()
        spec = BY_NAME[column]
        if required and not value:
            self.err(column, "is empty" + (f": {why}" if why else ""))
        elif spec.max_length and len(value) > spec.max_length:
            self.err(column, f"is longer than {spec.max_length} characters")
        elif problem := _value_problem(column, value):
            self.err(column, problem)
        return value

    def parsed(
        self, column: str, parse: Callable[[str], T], required: bool = False, why: str = ""
    ) -> T | None:
        raw = self.text(column, required, why)
        if not raw:
            return None
        try:
            return parse(raw)
        except ValueError as exc:
            shown = "" if BY_NAME[column].personal else f", got {raw!r}"
            self.err(column, f"{exc}{shown}")
            return None


def _value_problem(column: str, value: str) -> str | None:
    """Control characters anywhere; references must be identifiers (issue 17 §3)."""
    if problem := control_problem(value, multiline=column in MULTILINE):
        return problem
    return ref_problem(value) if value and column in REF_COLUMNS else None


def parse_reviews_csv(data: bytes, source: str, context: ImportContext) -> ImportPlan:
    """Parse and check every row; raise ImportRowError listing all problems, or return the plan."""
    records = read_table(data, source)
    errors: list[RowError] = []
    children: dict[str, ChildRecord] = {}
    reviews: dict[str, ReviewRecord] = {}
    participants: dict[tuple[str, str], ParticipantRecord] = {}
    lines: dict[str, int] = {}
    numbers: dict[tuple[str, int], str] = {}  # (child_ref, review_number) → review_ref

    for line, values in records:
        row = _Row(line, values, errors)
        child = _child(row, context)
        review = _review(row, context, child)
        participant = _participant(row, context)
        if not row.ok or child is None or review is None or participant is None:
            continue
        _merge(row, "child", child, children, lines, _CHILD_COLUMNS)
        if _merge(row, "review", review, reviews, lines, _REVIEW_COLUMNS):
            other = numbers.setdefault((child.ref, review.sequence), review.ref)
            if other != review.ref:
                row.err(
                    "review_number",
                    f"child {child.ref} already has review "
                    f"{review.sequence} as {other} (line {lines['review:' + other]})",
                )
        key = (participant.review_ref, participant.ref)
        if key in participants:
            first = lines[f"participant:{key[0]}/{key[1]}"]
            row.err(
                "participant_ref",
                f"{key[1]} appears twice for review {key[0]} (first on line {first})",
            )
        else:
            participants[key] = participant
            lines[f"participant:{key[0]}/{key[1]}"] = line
    raise_errors(source, errors)
    return ImportPlan(source, len(records), children, reviews, tuple(participants.values()), lines,
                      _day_warnings(reviews, lines, context.calendar))


def _day_warnings(reviews: dict[str, ReviewRecord], lines: dict[str, int],
                  calendar: WorkingCalendar) -> tuple[str, ...]:
    """A meeting on a weekend or bank holiday is imported (the case system booked it) but named,
    line first, for a person to check (issue 16 §5)."""
    found = []
    for ref, review in reviews.items():
        day = review.scheduled_at.astimezone(LONDON).date()
        if what := non_working_day(day, calendar):
            found.append((lines[f"review:{ref}"], f"review {ref} meets on {day.isoformat()}, "
                          f"{what}; check the date in the case system"))
    return tuple(f"line {line}: {text}" for line, text in sorted(found))


def _merge(
    row: _Row,
    kind: str,
    record: ChildRecord | ReviewRecord,
    seen: dict[str, Any],
    lines: dict[str, int],
    columns: dict[str, str],
) -> bool:
    """Keep the first record for a ref; a later row that differs is an error naming the column."""
    first = seen.setdefault(record.ref, record)
    if first is record:
        lines[f"{kind}:{record.ref}"] = row.line
        return True
    for f in fields(record):
        if getattr(first, f.name) != getattr(record, f.name) and f.name in columns:
            row.err(
                columns[f.name],
                f"differs from line {lines[f'{kind}:{record.ref}']} for {kind} {record.ref}",
            )
            break
    return False


def _child(row: _Row, context: ImportContext) -> ChildRecord | None:
    ref = row.text("child_ref", required=True)
    given = row.text("child_given_name", required=True)
    family = row.text("child_family_name", required=True)
    dob = row.parsed("child_dob", v.parse_date, required=True)
    since = row.parsed("looked_after_since", v.parse_date, required=True)
    team = row.text("team", required=True)
    if team and team not in context.teams:
        row.err(
            "team",
            f"unknown team {team!r}; expected one of {sorted(context.teams)} "
            "(config/directory.yaml)",
        )
    iro = row.parsed("iro_email", v.parse_email, required=True, why="every child needs an IRO")
    if iro and iro.lower() not in context.iro_emails:
        row.err("iro_email", f"{iro} is not an IRO in config/directory.yaml")
    if dob and since and dob > since:
        row.err("child_dob", "is after looked_after_since")
    placement, legal = row.text("placement"), row.text("legal_status")
    if not (ref and given and family and dob and since and team and iro):
        return None
    return ChildRecord(ref, given, family, dob, since, team, iro.lower(), placement, legal)


def _review(row: _Row, context: ImportContext, child: ChildRecord | None) -> ReviewRecord | None:
    ref = row.text("review_ref", required=True)
    number = row.parsed("review_number", v.parse_positive_int, required=True)
    previous = row.parsed("previous_review_date", v.parse_date)
    on = row.parsed("review_date", v.parse_date, required=True)
    at = row.parsed("review_time", v.parse_time, required=True)
    venue = row.text("venue")
    confidential = row.parsed("placement_confidential", v.parse_yes_no) or False
    since = child.looked_after_since if child else None
    if on and since and on < since:
        row.err("review_date", "is before the child became looked after (looked_after_since)")
    if number == 1 and previous:
        row.err("previous_review_date", "must be empty for review 1 (there is no previous review)")
    if number and number > 1 and not previous and "previous_review_date" not in _errored(row):
        row.err(
            "previous_review_date",
            "is empty: review 2 and later count from the date the "
            "previous review was held (reg 33)",
        )
    if previous and since and previous < since:
        row.err("previous_review_date", "is before the child became looked after")
    if previous and on and previous >= on:
        row.err("previous_review_date", "is not before review_date")
    if not (ref and number and on and at and child) or not row.ok:
        return None
    try:
        due = statutory_due_date(
            context.timescales,
            context.calendar,
            looked_after_since=child.looked_after_since,
            sequence=number,
            previous_review_on=previous,
        )
    except ConfigError:
        raise
    except BadInputError as exc:
        row.err("review_number", str(exc))
        return None
    scheduled = dt.datetime.combine(on, at, tzinfo=LONDON).astimezone(dt.UTC)
    return ReviewRecord(ref, child.ref, number, previous, scheduled, venue, child.iro_email, due,
                        confidential)


def _errored(row: _Row) -> set[str]:
    return {e.column or "" for e in row.errors[row.start :]}


def _participant(row: _Row, context: ImportContext) -> ParticipantRecord | None:
    review_ref = row.values.get("review_ref", "").strip()
    ref = row.text("participant_ref", required=True)
    role = row.text("role", required=True)
    if role and role not in context.roles:
        row.err(
            "role",
            f"unknown role {role!r}; expected one of {sorted(context.roles)} (rules.yaml roles)",
        )
    name = row.text("name", required=True)
    organisation, relationship = row.text("organisation"), row.text("relationship")
    email = row.parsed("email", v.parse_email)
    confirmed = row.parsed("email_confirmed", v.parse_yes_no) or False
    address = v.parse_address(row.text("address")) or None
    postcode = row.parsed("postcode", v.parse_postcode)
    channel = row.text("channel", required=True).lower()
    withheld = row.parsed("placement_withheld", v.parse_yes_no) if row.text(
        "placement_withheld") else None
    if channel and channel not in CHANNELS:
        row.err("channel", f"expected one of {', '.join(CHANNELS)}, got {channel!r}")
    done = _errored(row)
    if channel == "email" and not email and "email" not in done:
        row.err("email", "is empty, but channel is email")
    if channel == "post" and not address:
        row.err("address", "is empty, but channel is post")
    if channel == "post" and not postcode and "postcode" not in done:
        row.err("postcode", "is empty, but channel is post")
    if not (review_ref and ref and role and name and channel) or not row.ok:
        return None
    return ParticipantRecord(
        review_ref,
        ref,
        role,
        name,
        organisation,
        relationship,
        email,
        confirmed,
        address,
        postcode,
        channel,
        withheld,
    )
