"""Answers, from the one-time web link or keyed in from paper, stored apart from who gave them.

Who returned and what was answered never meet in the store: answering by link sets the
invitation's ``returned_on`` (so its reminder is cancelled, and the report's return count sees a
``Return`` on the questionnaire dispatch) and, in the same transaction, adds a response with a
random id, no time and no invitation. Paper answers add a response only (a paper form carries no
one's name). The audit says a person returned, never what they answered.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.store import audit
from workers.store.models import Dispatch, Return, Survey, SurveyInvitation, SurveyResponse
from workers.survey import links
from workers.survey.questions import check_answers

USED = ("This link has been used already: thank you, your answers were received. Each link "
        "works once.")


def invitation_for(session: Session, token: str) -> tuple[SurveyInvitation, Survey]:
    """The invitation a link's token opens, or NotFoundError (the message names nothing)."""
    invitation = session.scalars(select(SurveyInvitation).where(
        SurveyInvitation.token_hash == links.token_hash(token))).one_or_none()
    survey = session.get(Survey, invitation.survey_id) if invitation else None
    if invitation is None or survey is None:
        raise NotFoundError("This link is not known. Check it was copied in full from the email.")
    return invitation, survey


def survey_named(session: Session, name: str) -> Survey:
    survey = session.scalars(select(Survey).where(Survey.name == name)).one_or_none()
    if survey is None:
        known = ", ".join(session.scalars(select(Survey.name).order_by(Survey.name))) or "none"
        raise NotFoundError(f"no survey named {name!r} (surveys: {known})")
    return survey


def check_open(invitation: SurveyInvitation, survey: Survey, today: dt.date) -> None:
    if invitation.returned_on is not None:
        raise RefusedError(USED)
    if today > survey.closes_on:
        raise RefusedError(f"This questionnaire closed on {survey.closes_on:%d %B %Y}.")


def asked(survey: Survey, role: str) -> list[dict[str, Any]]:
    """The questions ``role`` was asked, as the survey kept them when it started (a later edit
    of survey.yaml changes neither the page nor what its answers are checked against)."""
    block = survey.questions.get(role)
    if not block:
        raise BadInputError(f"--role {role}: survey {survey.name} asked "
                            f"{survey.roles.replace(',', ', ')}")
    return list(block["questions"])


def _check(survey: Survey, role: str, given: Mapping[str, str]) -> dict[str, str]:
    return check_answers(role, {q["key"]: q["answers"] for q in asked(survey, role)}, given)


def answer_by_link(session: Session, token: str, given: Mapping[str, str], *,
                   today: dt.date) -> str:
    """Record the answers given through a link (the caller commits); the link then stops
    working. Returns the role answered as."""
    invitation, survey = invitation_for(session, token)
    check_open(invitation, survey, today)
    answers = _check(survey, invitation.role, given)
    if not answers:
        raise BadInputError("Please answer at least one question.")
    _mark_returned(session, invitation, today, "web")
    _add_response(session, survey, invitation.role, "web", answers)
    audit.record(session, "survey.returned", "dispatch", invitation.dispatch_id,
                 actor="survey link", survey_id=survey.id, role=invitation.role)
    return invitation.role


def _mark_returned(session: Session, invitation: SurveyInvitation, today: dt.date,
                   channel: str, used: str = USED) -> None:
    """The person answered: the invitation marked (once), a Return on the questionnaire for the
    report's return count, and their reminder called off."""
    # conditional: of two submissions at once, one wins and the other is refused
    result = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.returned_on.is_(None))
        .values(returned_on=today)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise RefusedError(used)
    session.add(Return(dispatch_id=invitation.dispatch_id, received_on=today, channel=channel))
    if invitation.reminder_dispatch_id is not None:
        session.execute(
            update(Dispatch)
            .where(Dispatch.id == invitation.reminder_dispatch_id,
                   Dispatch.state.in_(("pending", "queued")))
            .values(state="cancelled", last_error="answered")
            .execution_options(synchronize_session=False)
        )


def _by_code(session: Session, survey: Survey, code: str, secret: str) -> SurveyInvitation:
    """The invitation whose posted questionnaire carries ``code``: each code is made again from
    its salt (a few hundred HMACs), so the store keeps no code."""
    for invitation in session.scalars(select(SurveyInvitation).where(
            SurveyInvitation.survey_id == survey.id).order_by(SurveyInvitation.id)):
        if links.same_code(code, links.paper_code(secret, invitation.salt)):
            return invitation
    raise NotFoundError(f"--code {code}: no questionnaire of survey {survey.name} has this "
                        "return code; check it against the form (letters and digits, e.g. "
                        "ABCDE-FGHJK), or key it without --code as an unmarked form")


def key_paper(session: Session, name: str, role: str | None, given: Mapping[str, str], *,
              actor: str, today: dt.date, code: str | None = None,
              secret: str | None = None) -> str:
    """Business support keys in a paper questionnaire (the caller commits); returns the role.

    With the return code printed on a posted questionnaire, the person who was sent it is marked
    as having answered (their reminder stops, the return is counted) exactly as an answer by
    link does, and the answers are stored apart from them. Without a code (a form photocopied
    or handed out), the answers are stored and no one is marked."""
    survey = survey_named(session, name)
    invitation = None
    if code:
        invitation = _by_code(session, survey, code, links.require_secret(secret))
        if role and role != invitation.role:
            raise BadInputError(f"--role {role}: the form with this code was sent to a "
                                f"{invitation.role}; leave --role out with --code")
        role = invitation.role
    if not role:
        raise BadInputError("--role: say whose questionnaire it is (carer, social_worker or "
                            "guardian), or give the form's --code")
    answers = _check(survey, role, given)
    if not answers:
        raise BadInputError("--answers: no answers given; expected e.g. Q1=Always,Q5=Good")
    if invitation is not None:
        _mark_returned(session, invitation, today, "post",
                       used=f"--code {code}: this questionnaire has been answered already "
                            "(online, or keyed before); nothing was recorded")
        audit.record(session, "survey.returned", "dispatch", invitation.dispatch_id,
                     actor=actor, survey_id=survey.id, role=role, channel="post")
    _add_response(session, survey, role, "paper", answers)
    audit.record(session, "survey.keyed", "survey", survey.id, actor=actor, role=role,
                 on=today)
    return role


def parse_answers(text: str) -> dict[str, str]:
    """``"Q1=Always, Q6=Very well"`` → ``{"Q1": "Always", "Q6": "Very well"}``."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"--answers: {part!r} is not QUESTION=ANSWER (e.g. Q1=Always)")
        if key.strip() in out:
            raise BadInputError(f"--answers: {key.strip()} is given twice")
        out[key.strip()] = value.strip()
    return out


def _add_response(session: Session, survey: Survey, role: str, channel: str,
                  answers: Mapping[str, str]) -> None:
    session.add(SurveyResponse(id=secrets.token_hex(16), survey_id=survey.id, role=role,
                               channel=channel, answers=dict(answers)))
