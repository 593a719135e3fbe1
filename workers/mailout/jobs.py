"""The scheduler's mail-out jobs: reviews whose invitation day has come, and the inbox poll.

The review service opens a ``mailout`` deadline for the next review when one is held (due on the
``mailout.invitations`` day); this scan runs the mail-out for every open one that is due, and the
mail-out meets the deadline. A review that fails its preflight stays open and is logged by
reference (the problems are in `iro mailout REF --dry-run`); the next scan tries again.
Reminders need no job: they are dispatches with their own ``due_at`` (email: ``enqueue_due``;
post: the day's print batch), called off when the form comes back.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from workers.errors import IroError
from workers.mailout.documents import MailoutConfig
from workers.mailout.service import run_mailout
from workers.queue.scheduler import Job, JobContext
from workers.store.models import Deadline, Review

log = logging.getLogger(__name__)
JOB_NAME = "mailouts_due"
PERIOD_SECONDS = 3600.0


def due_reviews(session: Session, today: dt.date) -> list[str]:
    return list(session.scalars(
        select(Review.ref).join(Deadline, Deadline.review_id == Review.id)
        .where(Deadline.kind == "mailout", Deadline.met_on.is_(None), Deadline.due_on <= today,
               Review.status == "planned")
        .order_by(Deadline.due_on, Review.ref)
    ))


def run_due(sessions: sessionmaker[Session], cfg: MailoutConfig, today: dt.date) -> int:
    with sessions() as session:
        refs = due_reviews(session, today)
    created = 0
    for ref in refs:
        try:
            created += run_mailout(sessions, cfg, ref).created
        except IroError as exc:  # one review's problem must not hold up the others
            log.warning("scheduled mail-out for review %s not sent: %s", ref,
                        type(exc).__name__)
    return created


def make_job(load: Callable[[], MailoutConfig]) -> Job:
    def run(ctx: JobContext) -> int:
        return run_due(ctx.sessions, replace(load(), clock=ctx.clock), ctx.today)

    return Job(JOB_NAME, run, period=PERIOD_SECONDS)
