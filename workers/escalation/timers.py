"""The scheduler's escalation scan: overdue stage responses, timeouts and the 20-day ceiling.

Runs over every open escalation; each look is idempotent (an overdue alert or a ceiling flag is
recorded as a step and planned under a unique dispatch key, so running twice tells no one twice).
One escalation per transaction, so a fault in one leaves the others done.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from workers.core.clock import FixedClock, london_date
from workers.escalation.policy import Policy
from workers.escalation.recipients import DirectoryLike
from workers.escalation.service import EscalationService
from workers.queue.scheduler import Job, JobContext, register_job
from workers.store.models import Escalation

log = logging.getLogger(__name__)

JOB_NAME = "escalation_timers"
PERIOD_SECONDS = 3600.0  # hourly is plenty: the rules count whole working days


@dataclass
class ScanReport:
    looked_at: int = 0
    overdue: list[int] = field(default_factory=list)
    timed_out: list[int] = field(default_factory=list)
    ceiling: list[int] = field(default_factory=list)
    planned: int = 0

    @property
    def acted(self) -> int:
        return len(self.overdue) + len(self.timed_out) + len(self.ceiling)


def scan(
    sessions: sessionmaker[Session],
    policy: Policy,
    directory: DirectoryLike,
    now: dt.datetime,
) -> ScanReport:
    """Tick every open escalation as of ``now`` (the scheduler tick's instant: it also stamps the
    notices it plans as due, so they go at its next enqueue)."""
    today = london_date(now)
    report = ScanReport()
    with sessions() as session:
        ids = list(
            session.scalars(
                select(Escalation.id).where(Escalation.status == "open").order_by(Escalation.id)
            )
        )
    for escalation_id in ids:
        with sessions() as session:
            svc = EscalationService(session, policy, directory, clock=FixedClock(now))
            row = session.get(Escalation, escalation_id)
            if row is None or row.status != "open":
                continue
            t = svc.tick(row, today)
            session.commit()
        report.looked_at += 1
        report.planned += len(svc.planned)
        for step in t.steps:
            {
                "overdue": report.overdue,
                "timed_out": report.timed_out,
                "ceiling_passed": report.ceiling,
            }[step.action].append(escalation_id)
    if report.acted:
        log.info(
            "escalation timers: %d overdue, %d timed out, %d past the ceiling",
            len(report.overdue),
            len(report.timed_out),
            len(report.ceiling),
        )
    return report


def make_job(load: Callable[[], tuple[Policy, DirectoryLike]]) -> Job:
    """A ``workers.queue.scheduler.Job`` that scans with the rules ``load`` returns (read at each
    run,
    so an edited rules.yaml takes effect without a restart)."""

    def run(ctx: JobContext) -> int:
        policy, directory = load()
        report = scan(ctx.sessions, policy, directory, ctx.now)
        return report.planned  # the notices it asked for; the enqueue job sends them

    return Job(JOB_NAME, run, period=PERIOD_SECONDS)


def load_from_config_dir() -> tuple[Policy, DirectoryLike]:
    """Rules, calendar and directory from IRO_CONFIG_DIR (default ./config)."""
    from workers.cli.context import default_config_dir
    from workers.config.directory import load_directory
    from workers.config.rules import load_rules
    from workers.core.workcalendar import WorkingCalendar

    folder = default_config_dir()
    rules = load_rules(folder / "rules.yaml")
    policy = Policy.from_rules(rules.escalation, WorkingCalendar.from_rules(rules.calendar))
    return policy, load_directory(folder / "directory.yaml")


def register() -> None:
    """Add the scan to the scheduler's jobs (call once at scheduler start-up)."""
    register_job(make_job(load_from_config_dir))
