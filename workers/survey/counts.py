"""The survey's figures for a reporting period, from the store: who was asked and answered (by
role), and how many gave each answer to each question. Counts only: nothing here can say who
answered what (workers.survey.answers keeps them apart)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.store.models import Dispatch, Survey, SurveyInvitation, SurveyResponse


@dataclass(frozen=True)
class QuestionCounts:
    key: str
    text: str
    answers: tuple[str, ...]  # the scale, in order
    counts: dict[str, int]  # answer → people who gave it
    last_year: dict[str, int] | None = None  # the same question's counts a year before


@dataclass(frozen=True)
class RoleResults:
    role: str
    title: str
    asked: int  # questionnaires sent
    returned: int  # answers received (web and paper)
    questions: tuple[QuestionCounts, ...]

    @property
    def rate(self) -> str:
        """``40% (48 of 120)``, as the annual report writes it."""
        if not self.asked:
            return f"– ({self.returned} of 0)"
        return f"{round(100 * self.returned / self.asked)}% ({self.returned} of {self.asked})"


@dataclass(frozen=True)
class SurveyResults:
    name: str
    roles: tuple[RoleResults, ...]
    last_name: str | None = None  # the survey a year before, when there was one


def _started_between(session: Session, first: dt.date, last: dt.date) -> Survey | None:
    return session.scalars(
        select(Survey).where(Survey.started_on >= first, Survey.started_on <= last)
        .order_by(Survey.started_on.desc(), Survey.id.desc())
    ).first()


def _answer_counts(session: Session, survey_id: int, role: str) -> tuple[int, Counter[str]]:
    rows = session.scalars(select(SurveyResponse.answers).where(
        SurveyResponse.survey_id == survey_id, SurveyResponse.role == role)).all()
    counts: Counter[str] = Counter()
    for answers in rows:
        for key, value in answers.items():
            counts[f"{key}\x1f{value}"] += 1
    return len(rows), counts


def _asked(session: Session, survey_id: int, role: str) -> int:
    return int(session.scalar(
        select(func.count(SurveyInvitation.id))
        .join(Dispatch, Dispatch.id == SurveyInvitation.dispatch_id)
        .where(SurveyInvitation.survey_id == survey_id, SurveyInvitation.role == role,
               Dispatch.state == "sent")
    ) or 0)


def survey_results(session: Session, first: dt.date, last: dt.date) -> SurveyResults | None:
    """The survey started in ``first``..``last`` (the latest, if more than one), beside the one
    started a year before; None when no survey ran in the period."""
    survey = _started_between(session, first, last)
    if survey is None:
        return None
    before = _started_between(session, _year_before(first), _year_before(last))
    roles = []
    for role, block in survey.questions.items():
        returned, counts = _answer_counts(session, survey.id, role)
        earlier = _answer_counts(session, before.id, role)[1] if before else None
        asked_before = before is not None and role in before.questions
        questions = tuple(
            QuestionCounts(
                q["key"], q["text"], tuple(q["answers"]),
                {a: counts[f"{q['key']}\x1f{a}"] for a in q["answers"]},
                ({a: earlier[f"{q['key']}\x1f{a}"] for a in q["answers"]}
                 if earlier is not None and asked_before else None),
            )
            for q in block["questions"]
        )
        roles.append(RoleResults(role, block["title"], _asked(session, survey.id, role),
                                 returned, questions))
    return SurveyResults(survey.name, tuple(roles), before.name if before else None)


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class RoleStatus:
    role: str
    asked: int  # invitations
    sent: int  # questionnaires sent
    returned_by_link: int  # people who answered through their link
    answers: int  # answer sets received (web and paper)
    reminders: dict[str, int]  # reminder dispatch state → count


def status(session: Session, name: str) -> tuple[Survey, list[RoleStatus]] | None:
    """How a survey stands, by role (for `iro survey status`); None if there is no such survey."""
    survey = session.scalars(select(Survey).where(Survey.name == name)).one_or_none()
    if survey is None:
        return None
    out = []
    for role in survey.roles.split(","):
        mine = (SurveyInvitation.survey_id == survey.id, SurveyInvitation.role == role)
        asked = session.scalar(select(func.count(SurveyInvitation.id)).where(*mine)) or 0
        returned = session.scalar(select(func.count(SurveyInvitation.id)).where(
            *mine, SurveyInvitation.returned_on.is_not(None))) or 0
        answers = session.scalar(select(func.count(SurveyResponse.id)).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.role == role)) or 0
        reminders = {str(state): int(n) for state, n in session.execute(
            select(Dispatch.state, func.count(Dispatch.id))
            .join(SurveyInvitation, SurveyInvitation.reminder_dispatch_id == Dispatch.id)
            .where(*mine).group_by(Dispatch.state))}
        out.append(RoleStatus(role, int(asked), _asked(session, survey.id, role), int(returned),
                              int(answers), reminders))
    return survey, out
