"""The domain rules in force, from config/rules.yaml: validated, frozen, with file:line errors.

Defaults here are the shipped rules of DESIGN.md §2; config/rules.yaml repeats them with their
sources. Offsets read the way people say them (``15 working days before review``) and each section
accepts only the events it can count from, so ``5 working days after reveiw`` is an error, not a
rule that never fires. Checks across fields live in ``workers.config.rules_checks``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator

from workers.config.offsets import FORMAT_HINT, Offset, parse_offset
from workers.config.yamlsource import read_yaml, validate


def _anchors(*anchors: str) -> PlainValidator:
    """Parse an offset, accepting only the events this section can count from."""
    allowed = frozenset(anchors)

    def parse(value: object) -> Offset:
        if isinstance(value, Offset):
            value = str(value)  # re-check its event
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"is empty; expected {FORMAT_HINT}")
        if not isinstance(value, str):
            value = str(value)
        return parse_offset(value, allowed)

    return PlainValidator(parse)


_AS_TEXT = PlainSerializer(str, return_type=str)
ReviewOffset = Annotated[Offset, _anchors("looked_after", "previous_review"), _AS_TEXT]
MailoutOffset = Annotated[Offset, _anchors("review"), _AS_TEXT]
WriteUpOffset = Annotated[Offset, _anchors("held", "due"), _AS_TEXT]
EscalationOffset = Annotated[Offset, _anchors("stage_start", "raised"), _AS_TEXT]


def _o(text: str) -> Offset:
    return parse_offset(text)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Closure(_Model):
    """Days the offices are closed: internal deadlines skip them, statutory ones do not."""

    start: dt.date
    end: dt.date  # inclusive
    reason: str

    def days(self) -> list[dt.date]:
        count = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(max(count, 0))]


class CalendarRules(_Model):
    country: str = "GB"
    subdivision: str = "ENG"  # holidays.country_holidays("GB", subdiv="ENG")
    closures: list[Closure] = []

    def closure_days(self) -> frozenset[dt.date]:
        return frozenset(day for closure in self.closures for day in closure.days())


class ReviewTimescales(_Model):
    """Reg 33, Care Planning, Placement and Case Review (England) Regulations 2010."""

    first: ReviewOffset = _o("20 working days after looked_after")
    second: ReviewOffset = _o("3 months after previous_review")
    subsequent: ReviewOffset = _o("6 months after previous_review")
    # a held date further than this from the planned meeting needs --confirm (issue 16 §5)
    held_far_from_meeting_days: int = Field(default=14, ge=0)


class Reminder(_Model):
    at: MailoutOffset
    to: list[str]  # participant roles
    only_if_not_returned: bool = True


class MailoutRules(_Model):
    invitations: MailoutOffset = _o("15 working days before review")
    consultation_forms: MailoutOffset = _o("15 working days before review")
    return_by: MailoutOffset = _o("3 working days before review")
    reminders: list[Reminder] = []
    # A return date the letters cannot keep (passed, or before posted letters arrive):
    # "refuse" the mail-out, or "bring_to_meeting": send it, asking for the form at the meeting.
    late_return: Literal["refuse", "bring_to_meeting"] = "refuse"


class Deadline(_Model):
    due: WriteUpOffset
    reminders: list[WriteUpOffset] = []


class WriteUpRules(_Model):
    decisions: Deadline = Deadline(
        due=_o("5 working days after held"), reminders=[_o("1 working day before due")]
    )
    record: Deadline = Deadline(
        due=_o("15 working days after held"),
        reminders=[_o("5 working days before due"), _o("1 working day before due")],
    )
    overdue_notice_to: str = "iro_manager"  # told the working day after a deadline passes unmet


class MidwayRules(_Model):
    """Midway monitoring (IRO annual report 2013-14 §7.3, §8.1): between reviews the IRO checks
    that the decisions are being carried out."""

    # how far between the review held and the next one due, counted in working days
    fraction: float = Field(default=0.5, gt=0, lt=1)
    reminders: list[WriteUpOffset] = [_o("5 working days before due")]


class Stage(_Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    recipients: list[str]  # directory keys: team_manager, deputy_manager, iro_manager, ...
    response_due: EscalationOffset | None = None
    template: str  # template kind name
    auto_advance_on_timeout: bool = False


class Category(_Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str


class EscalationRules(_Model):
    stages: list[Stage] = Field(min_length=1)
    total_ceiling: EscalationOffset = _o("20 working days after raised")
    categories: list[Category] = Field(min_length=1)

    def stage(self, key: str) -> Stage | None:
        return next((s for s in self.stages if s.key == key), None)

    def next_stage(self, key: str) -> Stage | None:
        keys = [s.key for s in self.stages]
        index = keys.index(key) + 1 if key in keys else len(keys)
        return self.stages[index] if index < len(keys) else None


class AgeBand(_Model):
    key: str
    min_age: int = Field(ge=0)
    max_age: int | None = Field(default=None, ge=0)  # None: no upper limit
    template: str

    def contains(self, age: int) -> bool:
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)


class ConsultationRules(_Model):
    age_bands: list[AgeBand] = []
    forms: dict[str, str] = {}  # role → template kind; a role not listed gets no form


DEFAULT_ROLES = ["child", "parent", "carer", "social_worker", "guardian", "other"]


class Rules(_Model):
    calendar: CalendarRules = CalendarRules()
    review_timescales: ReviewTimescales = ReviewTimescales()
    mailout: MailoutRules = MailoutRules()
    write_up: WriteUpRules = WriteUpRules()
    escalation: EscalationRules
    consultation: ConsultationRules = ConsultationRules()
    roles: list[str] = Field(default_factory=lambda: list(DEFAULT_ROLES), min_length=1)
    participation_codes: dict[str, str] = {}
    midway: MidwayRules = MidwayRules()

    def age_band_for(self, age: int) -> AgeBand | None:
        """The child's consultation booklet band by age on the review date; None (e.g. under 4)."""
        return next((band for band in self.consultation.age_bands if band.contains(age)), None)

    def form_for(self, role: str) -> str | None:
        return self.consultation.forms.get(role)


def load_rules(path: Path) -> Rules:
    """Load and check rules.yaml; ConfigError lines read ``<path>:<line>: <field>: <reason>``."""
    from workers.config.rules_checks import check_rules

    source = read_yaml(path)
    rules = validate(source, Rules)
    problems = [source.problem(loc, reason) for loc, reason in check_rules(rules)]
    if problems:
        raise source.fail(problems)
    return rules
