"""config/survey.yaml: the questions each role is asked, each with its answer scale.

Validated like rules.yaml (workers.config.yamlsource): every problem is one
``file:line: field: reason`` line. The shipped questions are the annual report 2013-14's
Appendix A (tables A-C).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workers.config.yamlsource import Problem, read_yaml, validate
from workers.errors import BadInputError

Role = Literal["carer", "social_worker", "guardian"]
ROLES: tuple[Role, ...] = ("carer", "social_worker", "guardian")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Question(_Model):
    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    text: str = Field(min_length=1)
    scale: str


class RoleQuestions(_Model):
    title: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)


class SurveyConfig(_Model):
    reminder_working_days_before_close: int = Field(default=5, ge=0, le=60)
    scales: dict[str, list[str]] = Field(min_length=1)
    roles: dict[Role, RoleQuestions] = Field(min_length=1)

    def scale_of(self, question: Question) -> tuple[str, ...]:
        return tuple(self.scales[question.scale])

    def questions(self, role: str) -> list[Question]:
        found = self.roles.get(role)  # type: ignore[call-overload]
        if found is None:
            raise BadInputError(f"role {role!r} has no questions in survey.yaml "
                                f"(roles: {', '.join(self.roles)})")
        return list(found.questions)

    def check_answers(self, role: str, answers: Mapping[str, str]) -> dict[str, str]:
        scales = {q.key: self.scale_of(q) for q in self.questions(role)}
        return check_answers(role, scales, answers)


def check_answers(role: str, scales: Mapping[str, Sequence[str]],
                  answers: Mapping[str, str]) -> dict[str, str]:
    """``answers`` as stored: every key a question of ``role`` (``scales``: question key → its
    answers), every value on its scale (matched without regard to case). Unanswered questions
    are left out; every problem is named at once."""
    problems, clean = [], {}
    for key, value in answers.items():
        scale = scales.get(key)
        if scale is None:
            problems.append(f"{key}: no such question for {role} (questions: "
                            f"{', '.join(scales)})")
            continue
        if not value.strip():
            continue
        match = next((s for s in scale if s.lower() == value.strip().lower()), None)
        if match is None:
            problems.append(f"{key}: {value.strip()!r} is not an answer; expected one of "
                            f"{' / '.join(scale)}")
            continue
        clean[key] = match
    if problems:
        raise BadInputError("; ".join(problems))
    return clean


def load_survey(path: Path) -> SurveyConfig:
    """Load survey.yaml; raise ConfigError with ``<path>:<line>: <field>: <reason>`` lines."""
    source = read_yaml(path)
    config = validate(source, SurveyConfig)
    problems: list[Problem] = []
    for name, values in config.scales.items():
        if not values:
            problems.append(source.problem(("scales", name), "a scale needs at least one answer"))
        if len({v.lower() for v in values}) != len(values):
            problems.append(source.problem(("scales", name), "an answer appears twice"))
    for role, block in config.roles.items():
        seen: set[str] = set()
        for i, question in enumerate(block.questions):
            loc = ("roles", role, "questions", i)
            if question.scale not in config.scales:
                problems.append(source.problem(
                    (*loc, "scale"),
                    f"unknown scale {question.scale!r}; expected one of: "
                    f"{', '.join(config.scales)}"))
            if question.key in seen:
                problems.append(source.problem((*loc, "key"),
                                               f"question key {question.key!r} appears twice"))
            seen.add(question.key)
    if problems:
        raise source.fail(problems)
    return config
