"""`iro survey start`: plan one questionnaire (and one reminder) per person asked.

Rows first, queue later (DESIGN.md §3): each person gets an invitation (salt and token hash), a
``questionnaire`` dispatch due now and a ``survey_reminder`` dispatch due the configured working
days before the closing date; the scheduler's ``enqueue_due`` sends them through the dispatcher
(exactly once, allow-list checked again at send time). Keys are deterministic, so running it
again adds only people not yet asked. The kind ``questionnaire`` is what the annual report's
``questionnaire_returns`` counts (workers.report.queries); the reminder's kind is not counted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.core.clock import LONDON
from workers.core.workcalendar import WorkingCalendar
from workers.errors import BadInputError, PreflightError, RefusedError
from workers.store import audit
from workers.store.models import Dispatch, Participant, Review, Survey, SurveyInvitation
from workers.survey import links
from workers.survey.questions import ROLES, SurveyConfig
from workers.survey.recipients import Candidate, LeftOut, Recipient, Selection, select_recipients

QUESTIONNAIRE = "questionnaire"  # counted by workers.report.queries.QUESTIONNAIRE_PREFIX
REMINDER = "survey_reminder"
_NAME = re.compile(r"^(\d{4})-(\d{2})$")
REMINDER_HOUR = dt.time(9)  # London: the reminder arrives in the working day


@dataclass(frozen=True)
class StartRequest:
    name: str
    roles: tuple[str, ...]
    closes_on: dt.date
    period: tuple[dt.date, dt.date]


@dataclass(frozen=True)
class StartResult:
    survey_id: int | None
    planned: tuple[Recipient, ...]  # new this run
    already: int  # asked by an earlier run
    not_asked: tuple[LeftOut, ...]
    reminder_on: dt.date | None


def financial_year(name: str) -> tuple[dt.date, dt.date]:
    """``2026-27`` → 1 April 2026 to 31 March 2027 (the annual report's year)."""
    m = _NAME.match(name.strip())
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        raise BadInputError(f"--name {name!r}: expected a reporting year like 2026-27, or give "
                            "--from and --to for the reviews it covers")
    year = int(m[1])
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def parse_roles(text: str) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(r.strip() for r in text.split(",") if r.strip()))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise BadInputError(f"--roles: unknown {', '.join(unknown) or '(none given)'}; "
                            f"expected some of {','.join(ROLES)}")
    return roles


def candidates(session: Session, roles: Sequence[str], first: dt.date,
               last: dt.date) -> list[Candidate]:
    """Participants of the roles asked, on reviews held from ``first`` to ``last``."""
    rows = session.execute(
        select(Participant, Review.held_on)
        .join(Review, Review.id == Participant.review_id)
        .where(Review.held_on >= first, Review.held_on <= last, Participant.role.in_(roles))
    ).all()
    return [Candidate(p.id, p.ref, p.review_id, p.role, p.name, p.email, p.email_confirmed,
                      held_on or first, postal=bool((p.address or "").strip()
                                                    and (p.postcode or "").strip()),
                      postcode=p.postcode or "") for p, held_on in rows]


def reminder_date(cfg: SurveyConfig, calendar: WorkingCalendar, closes_on: dt.date,
                  today: dt.date) -> dt.date | None:
    """The working day the reminder goes; None when that is already past (no late burst)."""
    on = calendar.add(closes_on, -cfg.reminder_working_days_before_close)
    return on if on > today else None


def start(
    session: Session,
    cfg: SurveyConfig,
    calendar: WorkingCalendar,
    request: StartRequest,
    *,
    allowed_domains: Sequence[str],
    cafcass_address: str | None,
    link_secret: str | None,
    now: dt.datetime,
    actor: str,
    dry_run: bool = False,
    max_address_lines: int = 7,
) -> StartResult:
    """Plan the survey (the caller commits). Refuses, with nothing planned, when any address
    may not be used (the mail-out's preflight rule, DESIGN.md §6)."""
    today = now.astimezone(LONDON).date()
    if request.closes_on <= today:
        raise BadInputError(f"--closes {request.closes_on.isoformat()}: the closing date must "
                            "be after today")
    missing = [r for r in request.roles if r not in cfg.roles]
    if missing:
        raise BadInputError(f"--roles: survey.yaml has no questions for {', '.join(missing)}")
    first, last = request.period
    found = candidates(session, request.roles, first, min(last, today))
    selection: Selection = select_recipients(found, request.roles,
                                             allowed_domains=allowed_domains,
                                             cafcass_address=cafcass_address)
    problems = [*selection.problems, *_postal(session, selection, max_address_lines)]
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise PreflightError(f"survey {request.name} refused: {len(problems)} "
                             f"problem(s); nothing was planned. Correct the case record and "
                             f"run it again:\n{lines}")
    reminder_on = reminder_date(cfg, calendar, request.closes_on, today)
    survey = session.scalars(select(Survey).where(Survey.name == request.name)).one_or_none()
    if survey is not None and survey.closes_on != request.closes_on:
        raise RefusedError(f"survey {request.name} already runs, closing "
                           f"{survey.closes_on.isoformat()}; give the same --closes to ask "
                           "people added since")
    keys = {_key(request.name, r): r for r in selection.recipients}
    existing = set(session.scalars(select(Dispatch.key).where(Dispatch.key.in_(list(keys)))))
    new = tuple(r for k, r in keys.items() if k not in existing)
    if dry_run:
        return StartResult(survey.id if survey else None, new, len(existing),
                           selection.not_asked, reminder_on)
    secret = links.require_secret(link_secret)
    if survey is None:
        survey = Survey(name=request.name, period_start=first, period_end=last,
                        roles=",".join(request.roles), started_on=today,
                        closes_on=request.closes_on, started_by=actor,
                        questions=snapshot(cfg, request.roles))
        session.add(survey)
        session.flush()
        audit.record(session, "survey.started", "survey", survey.id, actor=actor,
                     survey=request.name, roles=list(request.roles),
                     closes_on=request.closes_on, recipients=len(new))
    added = [r for r in request.roles if r not in survey.roles.split(",")]
    if added:  # a later run asking another role: keep its questions as asked too
        survey.roles = ",".join([*survey.roles.split(","), *added])
        survey.questions = {**survey.questions, **snapshot(cfg, added)}
    for recipient in new:
        _plan_one(session, survey, recipient, secret, now, reminder_on, actor)
    return StartResult(survey.id, new, len(existing), selection.not_asked, reminder_on)


def _postal(session: Session, selection: Selection, max_lines: int) -> list[LeftOut]:
    """A posted questionnaire's address must be whole and fit the envelope window (the
    mail-out's preflight rule for every posted letter)."""
    from workers.mailout.preflight import postal_problems

    out = []
    for r in selection.recipients:
        person = session.get(Participant, r.participant_id) if r.channel == "post" else None
        if person is not None:
            out += [LeftOut(person.ref, r.role, why) for why in postal_problems(person, max_lines)]
    return out


def snapshot(cfg: SurveyConfig, roles: Sequence[str]) -> dict[str, Any]:
    """The questions as asked, kept with the survey so its report never depends on a later
    survey.yaml."""
    return {role: {"title": cfg.roles[role].title,  # type: ignore[index]
                   "questions": [{"key": q.key, "text": q.text, "answers": list(cfg.scale_of(q))}
                                 for q in cfg.questions(role)]}
            for role in roles}


def _key(name: str, recipient: Recipient) -> str:
    return f"survey/{name}/{recipient.role}/{recipient.who}"


def _plan_one(session: Session, survey: Survey, recipient: Recipient, secret: str,
              now: dt.datetime, reminder_on: dt.date | None, actor: str) -> None:
    key = _key(survey.name, recipient)
    params = {"survey_id": survey.id, "via": recipient.via}
    sent = Dispatch(key=key, kind=QUESTIONNAIRE, channel=recipient.channel,
                    review_id=recipient.review_id,
                    participant_id=recipient.participant_id, recipient=recipient.address,
                    due_at=now, params=params)
    session.add(sent)
    session.flush()
    planned = [sent]
    salt = links.new_salt()
    token = links.token_for(secret, salt)
    invitation = SurveyInvitation(survey_id=survey.id, role=recipient.role, dispatch_id=sent.id,
                                  salt=salt, token_hash=links.token_hash(token))
    if reminder_on is not None:
        due = dt.datetime.combine(reminder_on, REMINDER_HOUR, LONDON).astimezone(dt.UTC)
        reminder = Dispatch(key=f"{key}/reminder", kind=REMINDER, channel=recipient.channel,
                            review_id=recipient.review_id,
                            participant_id=recipient.participant_id,
                            recipient=recipient.address, due_at=due, params=params)
        session.add(reminder)
        session.flush()
        invitation.reminder_dispatch_id = reminder.id
        planned.append(reminder)
    session.add(invitation)
    session.flush()
    for row in planned:
        audit.record(session, "dispatch.planned", "dispatch", row.id, actor=actor, key=row.key,
                     kind=row.kind, survey_id=survey.id)
