"""The scheduler's write-up scan: every open write-up clock has its notices, met ones have none.

Reminders and overdue notices are planned as dispatches when a review is marked held (``service``);
the scheduler's ``enqueue_due`` job sends them when their ``due_at`` comes. This scan is the
safety net around that: it plans the notices of a clock that has none (a review held before this
service ran, a row lost), and calls off any still-unsent notice of a clock already stopped. Every
dispatch has a unique key, so running the scan any number of times tells no one twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from workers.core.planning import write_up_reminders
from workers.queue.scheduler import Job, JobContext, register_job
from workers.reviews import records
from workers.reviews.clock import WRITE_UP_KINDS, WriteUpClock, overdue_on
from workers.reviews.held import notices_for
from workers.reviews.notices import NoticeConfig
from workers.store import keyed
from workers.store.models import Deadline, Dispatch, Review

log = logging.getLogger(__name__)

JOB_NAME = "writeup_notices"
PERIOD_SECONDS = 3600.0  # hourly: the notices are due by the day
RECENTLY_MET_DAYS = 14  # how far back to look for stopped clocks with notices left


def scan(sessions: sessionmaker[Session], cfg: NoticeConfig, today: dt.date) -> int:
    """Returns how many notices it planned or called off."""
    acted = 0
    with sessions() as session:
        open_rows = session.execute(
            select(Deadline, Review)
            .join(Review, Deadline.review_id == Review.id)
            .where(Deadline.kind.in_(WRITE_UP_KINDS), Deadline.met_on.is_(None))
            .where(Review.status != "cancelled")
        ).all()
        for deadline, review in open_rows:
            acted += _plan_missing(session, cfg, deadline, review, today)
        met = session.scalars(
            select(Deadline.key).where(
                Deadline.kind.in_(WRITE_UP_KINDS),
                Deadline.met_on >= today - dt.timedelta(days=RECENTLY_MET_DAYS),
            )
        ).all()
        for key in met:
            acted += records.cancel_pending(session, key + "/")
        session.commit()
    if acted:
        log.info("write-up scan: %d notices planned or called off", acted)
    return acted


def _plan_missing(
    session: Session, cfg: NoticeConfig, deadline: Deadline, review: Review, today: dt.date
) -> int:
    from workers.reviews.held import send_at
    from workers.reviews.service import overdue_recipient

    prefix = deadline.key + "/"
    planned = set(session.scalars(select(Dispatch.key).where(Dispatch.key.startswith(prefix))))
    rule = getattr(cfg.rules.write_up, deadline.kind)
    days = write_up_reminders(
        deadline.kind, rule, cfg.calendar, held_on=deadline.started_on, due_on=deadline.due_on
    )
    reminders = tuple(day for day in days if day >= today)
    clock = WriteUpClock(
        deadline.kind,  # type: ignore[arg-type]
        deadline.started_on,
        deadline.due_on,
        reminders,
        overdue_on(deadline.due_on, cfg.calendar),
    )
    have_reminders = any("/reminder/" in key for key in planned)
    made = 0
    for notice in notices_for(review.ref, clock):
        if notice.key in planned or (notice.kind == "writeup_reminder" and have_reminders):
            continue  # reminders are planned once, as a set: new rules never add a second round
        recipient = (
            review.iro_email
            if notice.to == "iro"
            else overdue_recipient(cfg.rules, cfg.directory, review.child, review)
        )
        _, created = keyed.ensure_dispatch(
            session,
            notice.key,
            kind=notice.kind,
            channel="email",
            review_id=review.id,
            recipient=recipient,
            due_at=send_at(notice.on),
            params={"review_ref": review.ref, "deadline_key": deadline.key,
                    "deadline": deadline.kind},
        )  # fmt: skip
        made += created
    return made


def make_job(load: Callable[[], NoticeConfig]) -> Job:
    def run(ctx: JobContext) -> int:
        return scan(ctx.sessions, load(), ctx.today)

    return Job(JOB_NAME, run, period=PERIOD_SECONDS)


def register(load: Callable[[], NoticeConfig] | None = None) -> None:
    """Add the scan to the scheduler and the three composers to compose (once at start-up)."""
    from workers.reviews import notices

    loader = load or notices.load_from_config_dir
    notices.register(loader)
    register_job(make_job(loader))
