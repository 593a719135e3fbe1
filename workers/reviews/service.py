"""The review events applied to the store: held, decisions sent, record written, earlier review.

Sessions are passed in and callers commit. Every change is an audit event carrying references
and codes only. The pure rules live in ``held``, ``clock`` and ``timescale``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.config.directory import Directory
from workers.config.rules import Rules
from workers.core.clock import LONDON
from workers.errors import BadInputError, ConfigError, RefusedError
from workers.reviews import records
from workers.reviews.calendar import Calendar
from workers.reviews.clock import ClockStop, WriteUpKind, stop_clock
from workers.reviews.date_checks import held_date_doubts
from workers.reviews.held import (
    HeldPlan,
    PlannedNotice,
    deadline_key,
    mailout_key,
    plan_held,
    quiet_for_late_entry,
    record_draft_key,
    send_at,
)
from workers.reviews.matching import planned_twin
from workers.reviews.timescale import NextReview, early_review
from workers.store import audit, keyed
from workers.store.models import Child, Dispatch, Review

MEETING_TIME = dt.time(10)  # a meeting booked without a time: 10am London, changed when arranged


@dataclass(frozen=True)
class HeldResult:
    review: Review
    plan: HeldPlan
    next_review: Review | None
    dispatches_planned: int


def mark_held(
    session: Session,
    rules: Rules,
    directory: Directory,
    calendar: Calendar,
    review_ref: str,
    held_on: dt.date,
    *,
    participation: str | None = None,
    attended: Sequence[str] = (),
    now: dt.datetime,
    today: dt.date | None = None,
    actor: str = "system",
    confirm: bool = False,
) -> HeldResult:
    """``confirm``: the person has checked a date that looks like a slip (date_checks)."""
    review = records.review_by_ref(session, review_ref)
    if review.status != "planned":
        when = f" on {review.held_on.isoformat()}" if review.held_on else ""
        raise RefusedError(f"review {review.ref} is already {review.status}{when}; nothing changed")
    child = review.child
    if held_on < child.looked_after_since:
        raise BadInputError(
            f"--date {held_on.isoformat()} is before child {child.ref} became looked after "
            f"({child.looked_after_since.isoformat()})"
        )
    if today is not None and held_on > today:
        raise BadInputError(f"--date {held_on.isoformat()} is in the future; record it on the day")
    doubts = held_doubts(rules, calendar, review, held_on)
    if doubts and not confirm:
        raise RefusedError(f"review {review.ref}: --date {'; '.join(doubts)}; if that is right, "
                           "run it again with --confirm; nothing changed")
    code = _participation_code(rules, participation)
    _mark_attendance(review, attended)

    plan = plan_held(
        rules,
        calendar,
        review_ref=review.ref,
        sequence=review.sequence,
        due_on=review.due_on,
        held_on=held_on,
        ceased_on=child.ceased_on,
    )
    review.status = "held"
    review.held_on = held_on
    review.participation = code
    review.in_timescale = plan.timeliness.in_timescale
    review.days_late = plan.timeliness.days_late
    for clock in plan.clocks:
        keyed.ensure_deadline(
            session,
            deadline_key(review.ref, clock.kind),
            kind=clock.kind,
            review_id=review.id,
            started_on=held_on,
            due_on=clock.due_on,
            statutory=False,
        )
    overdue_to = overdue_recipient(rules, directory, child, review)
    moment = now
    entered_on = today or now.astimezone(LONDON).date()
    planned = sum(
        plan_notice(session, review, notice, overdue_to, moment, actor)
        for notice in quiet_for_late_entry(plan.notices, entered_on)
    )
    following = _plan_next(session, child, review, plan.next) if plan.next else None
    audit.record(
        session,
        "review.held",
        "review",
        review.id,
        actor=actor,
        review_ref=review.ref,
        held_on=held_on,
        in_timescale=review.in_timescale,
        days_late=review.days_late,
        participation=code,
        next_review_ref=following.ref if following else None,
        confirmed=doubts,
    )
    return HeldResult(review, plan, following, planned)


def held_doubts(rules: Rules, calendar: Calendar, review: Review, held_on: dt.date) -> list[str]:
    """Why ``held_on`` may be a typing slip (before the previous review, far from the planned
    meeting, a weekend or bank holiday); the correction of a held date asks the same."""
    previous = [r.held_on for r in review.child.reviews
                if r.id != review.id and r.held_on is not None and r.sequence < review.sequence]
    planned = review.scheduled_at.astimezone(LONDON).date() if review.scheduled_at else None
    return held_date_doubts(held_on, previous_held=max(previous, default=None), planned_on=planned,
                            far_days=rules.review_timescales.held_far_from_meeting_days,
                            calendar=calendar)


def _participation_code(rules: Rules, participation: str | None) -> str | None:
    if participation is None:
        return None
    code = participation.strip().upper()
    if rules.participation_codes and code not in rules.participation_codes:
        known = ", ".join(sorted(rules.participation_codes))
        raise BadInputError(f"--participation {participation!r}: not an SSDA903 code ({known})")
    return code


def _mark_attendance(review: Review, attended: Sequence[str]) -> None:
    """``attended`` names participants by ref or by role (every participant with that role)."""
    if not attended:
        return
    wanted = {token.strip() for token in attended}
    known = {p.ref for p in review.participants} | {p.role for p in review.participants}
    unknown = sorted(wanted - known)
    if unknown:
        raise BadInputError(
            f"--attended {', '.join(unknown)}: not a participant ref or role on review "
            f"{review.ref} (refs: {', '.join(sorted(p.ref for p in review.participants))})"
        )
    for person in review.participants:
        person.attended = person.ref in wanted or person.role in wanted


def overdue_recipient(rules: Rules, directory: Directory, child: Child, review: Review) -> str:
    key = rules.write_up.overdue_notice_to
    person = directory.resolve(key, team_key=child.team, iro_email=review.iro_email)
    if person is None:
        raise ConfigError(
            f"rules.yaml: write_up.overdue_notice_to: {key!r} does not name anyone in "
            f"directory.yaml for team {child.team!r}; add them or change the rule"
        )
    return person.email


def plan_notice(
    session: Session,
    review: Review,
    notice: PlannedNotice,
    overdue_to: str,
    now: dt.datetime,
    actor: str,
) -> bool:
    recipient = review.iro_email if notice.to == "iro" else overdue_to
    params: dict[str, str] = {"review_ref": review.ref}
    if notice.deadline is not None:
        params["deadline_key"] = deadline_key(review.ref, notice.deadline)
        params["deadline"] = notice.deadline
    # the draft record goes straight away; the reminders and notices on their day
    due_at = now if notice.kind == "review_record" else send_at(notice.on)
    dispatch, created = keyed.ensure_dispatch(
        session,
        notice.key,
        kind=notice.kind,
        channel="email",
        review_id=review.id,
        recipient=recipient,
        due_at=due_at,
        params=params,
    )
    if created:
        audit.record(
            session, "dispatch.planned", "dispatch", dispatch.id, actor=actor, key=notice.key
        )
    return created


def _plan_next(session: Session, child: Child, held: Review, nxt: NextReview) -> Review:
    """The next review row (reused if the case system already sent it), its people, its mail-out."""
    # the case system may have sent it already, under its own ref (issue 16 §4)
    following = planned_twin(child.reviews, nxt.sequence, nxt.due_on, other_than=held.ref)
    if following is None:
        following = Review(
            ref=f"{child.ref}-R{nxt.sequence}",
            child=child,
            sequence=nxt.sequence,
            due_on=nxt.due_on,
            iro_email=child.iro_email,
            venue=held.venue,
        )
        session.add(following)
        session.flush()
    else:
        following.due_on = nxt.due_on  # reg 33 counts from the day the last one was held
    records.copy_participants(session, held, following)
    _plan_mailout(session, following, nxt, started_on=held.held_on or nxt.due_on)
    return following


def _plan_mailout(session: Session, review: Review, nxt: NextReview, started_on: dt.date) -> None:
    """The day its invitation round is due, as an open internal deadline the mail-out meets."""
    deadline = keyed.ensure_deadline(
        session,
        mailout_key(review.ref),
        kind="mailout",
        review_id=review.id,
        started_on=started_on,
        due_on=nxt.invitations_on,
        statutory=False,
    )
    if deadline.met_on is None:
        deadline.due_on = nxt.invitations_on


def stop_writeup(
    session: Session,
    calendar: Calendar,
    review_ref: str,
    kind: WriteUpKind,
    met_on: dt.date,
    *,
    today: dt.date | None = None,
    actor: str = "system",
) -> ClockStop:
    """The decisions were sent, or the record written, on ``met_on``: stop that clock.

    ``today`` given: a date after it is refused (the CLI and the web page both pass it)."""
    if today is not None and met_on > today:
        raise BadInputError(f"--date {met_on.isoformat()} is in the future")
    review = records.review_by_ref(session, review_ref)
    deadline = keyed.deadline_by_key(session, deadline_key(review.ref, kind))
    if review.held_on is None or deadline is None:
        raise RefusedError(
            f"review {review.ref} has not been marked held; run `iro review held` first"
        )
    if deadline.met_on is not None:
        raise RefusedError(
            f"review {review.ref}: the {kind} were already recorded on {deadline.met_on}"
        )
    try:
        stop = stop_clock(deadline.started_on, deadline.due_on, met_on, calendar)
    except ValueError as exc:
        raise BadInputError(f"--date: {exc}") from None
    deadline.met_on = stop.met_on
    deadline.working_days_taken = stop.working_days_taken
    deadline.in_time = stop.in_time
    if kind == "record":
        review.recorded_on = met_on
        review.status = "recorded"
    else:
        review.decisions_sent_on = met_on
    cancelled = records.cancel_pending(session, deadline.key + "/")
    if kind == "record":  # the record is written: its draft is no use now (issue 16)
        cancelled += records.cancel_pending(session, record_draft_key(review.ref))
    audit.record(
        session,
        f"review.{kind}_met",
        "review",
        review.id,
        actor=actor,
        review_ref=review.ref,
        deadline_key=deadline.key,
        met_on=met_on,
        working_days_taken=stop.working_days_taken,
        in_time=stop.in_time,
        notices_cancelled=cancelled,
    )
    return stop


def schedule_early(
    session: Session,
    rules: Rules,
    calendar: Calendar,
    child_ref: str,
    on: dt.date,
    *,
    at: dt.time = MEETING_TIME,
    today: dt.date | None = None,
    actor: str = "system",
) -> Review:
    """Bring the child's next review forward to ``on``; its statutory date stays."""
    child = records.child_by_ref(session, child_ref)
    review = records.planned_review(session, child)
    if review is None:
        raise RefusedError(f"child {child.ref} has no review waiting to be held; import one first")
    if session.scalar(select(Dispatch.id).where(Dispatch.review_id == review.id).limit(1)):
        # its letters are planned: moving the date here would leave their reminders on the old
        # one (issue 16); the casework move re-plans them and tells those already invited
        raise RefusedError(f"review {review.ref} has been mailed out; use `iro review move "
                           f"{review.ref} --date {on.isoformat()}` so its letters follow; "
                           "nothing changed")
    try:
        planned = early_review(
            rules.mailout,
            calendar,
            sequence=review.sequence,
            due_on=review.due_on,
            requested_on=on,
            today=today,
        )
    except ValueError as exc:
        raise RefusedError(f"review {review.ref}: --date {exc}; nothing changed") from None
    review.scheduled_at = dt.datetime.combine(on, at, tzinfo=LONDON).astimezone(dt.UTC)
    review.requested_early = True
    _plan_mailout(session, review, planned, started_on=today or on)
    audit.record(
        session,
        "review.scheduled_early",
        "review",
        review.id,
        actor=actor,
        review_ref=review.ref,
        meeting_on=on,
        due_on=review.due_on,
        invitations_on=planned.invitations_on,
    )
    return review
