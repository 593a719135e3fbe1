"""The scheduler's job that keeps each child's stored next review current
(workers.store.next_review), so the caseload and overdue lists rarely have to work one out."""

from __future__ import annotations

from collections.abc import Callable

from workers.core.planning import ReviewTimescalesLike
from workers.core.workcalendar import WorkingCalendar
from workers.queue.scheduler import Job, JobContext
from workers.store.next_review import refresh

JOB_NAME = "next_review_refresh"
PERIOD_SECONDS = 300.0


def make_job(load: Callable[[], tuple[WorkingCalendar, ReviewTimescalesLike]]) -> Job:
    """The scheduler keeps the stored dates current between page loads, so a list rarely has
    to write (after a migration or a changed rules.yaml, about 2 s at 10,000 children)."""
    def run(ctx: JobContext) -> int:
        calendar, timescales = load()
        with ctx.sessions() as session:
            done = refresh(session, calendar, timescales)
            session.commit()
        return done

    return Job(JOB_NAME, run, period=PERIOD_SECONDS)
