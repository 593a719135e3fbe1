"""The scheduler's midway scan: every child with a review held and the next one planned has its
midway check, and the IRO's reminders of it.

Idempotent, as the write-up scan: a check is a ``Deadline`` (kind ``midway``) keyed by the review it
follows, and each reminder a dispatch keyed by its day. When the next review moves, an unmet check
moves with it and its unsent reminders are planned again; when the next review is held first, the
unmet check is superseded (removed, reminders called off), since the review itself now looks at
the decisions. Late entry is quiet: no reminder is planned for a day already past.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from workers.midway import plan
from workers.queue.scheduler import Job, JobContext, register_job
from workers.reviews import records
from workers.reviews.held import send_at
from workers.reviews.notices import NoticeConfig
from workers.store import keyed
from workers.store.models import Child, Deadline, MidwayCheck, Review

log = logging.getLogger(__name__)

JOB_NAME = "midway_checks"
PERIOD_SECONDS = 3600.0
KIND = "midway"
REMINDER = "midway_reminder"
HELD = ("held", "recorded")


def scan(sessions: sessionmaker[Session], cfg: NoticeConfig, today: dt.date) -> int:
    """Plans, moves or supersedes midway checks; returns how many it changed."""
    changed = 0
    with sessions() as session:
        children = session.scalars(
            select(Child).where(Child.ceased_on.is_(None)).options(selectinload(Child.reviews))
        ).all()
        open_checks = {
            d.review_id: d for d in session.scalars(
                select(Deadline).where(Deadline.kind == KIND, Deadline.met_on.is_(None)))
        }
        for child in children:
            changed += _child(session, cfg, child, open_checks, today)
        session.commit()
    if changed:
        log.info("midway scan: %d checks planned, moved or superseded", changed)
    return changed


def ensure_for_child(session: Session, cfg: NoticeConfig, child: Child, today: dt.date) -> int:
    """The scan for one child (before recording its check, so a check held the day the review
    was entered need not wait for the scheduler's next tick)."""
    open_checks = {
        d.review_id: d for d in session.scalars(
            select(Deadline).join(Review, Deadline.review_id == Review.id)
            .where(Deadline.kind == KIND, Deadline.met_on.is_(None), Review.child_id == child.id))
    }
    return _child(session, cfg, child, open_checks, today)


def _child(session: Session, cfg: NoticeConfig, child: Child,
           open_checks: dict[int | None, Deadline], today: dt.date) -> int:
    held = [r for r in child.reviews if r.status in HELD and r.held_on is not None]
    latest = max(held, key=lambda r: (r.held_on, r.sequence), default=None)
    changed = 0
    for review in held:
        check = open_checks.get(review.id)
        if check is not None and review is not latest:
            changed += _supersede(session, check)
    if latest is None or latest.held_on is None:
        return changed
    following = [r for r in child.reviews if r.status == "planned" and r.sequence > latest.sequence]
    if not following:
        return changed
    nxt = min(following, key=lambda r: r.sequence)
    due = plan.due_on(cfg.rules.midway, cfg.calendar, held_on=latest.held_on, next_due=nxt.due_on)
    if due is None:
        return changed
    key = plan.deadline_key(latest.ref)
    check = session.scalars(select(Deadline).where(Deadline.key == key)).one_or_none()
    if check is None:
        check = Deadline(key=key, kind=KIND, review_id=latest.id, started_on=latest.held_on,
                         due_on=due, statutory=False)
        session.add(check)
        session.flush()
    elif check.met_on is None and check.due_on != due:
        records.cancel_pending(session, key + "/reminder/")
        check.due_on = due
    elif check.met_on is not None:
        return changed
    else:
        return changed + _plan_reminders(session, cfg, latest, check, today)
    return changed + 1 + _plan_reminders(session, cfg, latest, check, today)


def _plan_reminders(session: Session, cfg: NoticeConfig, review: Review, check: Deadline,
                    today: dt.date) -> int:
    made = 0
    for day in plan.reminder_days(cfg.rules.midway, cfg.calendar, held_on=check.started_on,
                                  due=check.due_on):
        if day < today:
            continue  # entered late: a reminder for a past day would only be noise
        _, created = keyed.ensure_dispatch(
            session, plan.reminder_key(review.ref, day), kind=REMINDER, channel="email",
            review_id=review.id, recipient=review.iro_email, due_at=send_at(day),
            params={"review_ref": review.ref, "deadline_key": check.key},
        )
        made += created
    return made


def _supersede(session: Session, check: Deadline) -> int:
    """The next review was held before this check was recorded: it no longer falls due."""
    records.cancel_pending(session, check.key + "/reminder/")
    if session.scalars(select(MidwayCheck.id).where(MidwayCheck.deadline_id == check.id)).first():
        return 0
    session.delete(check)
    return 1


def make_job(load: Callable[[], NoticeConfig]) -> Job:
    def run(ctx: JobContext) -> int:
        return scan(ctx.sessions, load(), ctx.today)

    return Job(JOB_NAME, run, period=PERIOD_SECONDS)


def register(load: Callable[[], NoticeConfig] | None = None) -> None:
    """Add the scan to the scheduler and the reminder's composer (once at start-up)."""
    from workers.midway import reminder
    from workers.reviews import notices

    loader = load or notices.load_from_config_dir
    reminder.register(loader)
    register_job(make_job(loader))
