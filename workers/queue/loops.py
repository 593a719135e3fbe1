"""Each periodic job's last run, kept in the store, so monitoring can tell a loop that stopped.

The scheduler records every run of a job (when, and whether it failed); `iro dispatches status`
reads them back and calls a job stale when it has not run for two of its periods and a minute:
a scheduler that died, hangs, or cannot reach the database shows up there, whichever machine it
ran on.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.store.models import ServiceState

PREFIX = "scheduler.ran."
GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class LastRun:
    job: str
    at: dt.datetime
    error: str  # the exception's type when the run failed, else ""

    @property
    def ok(self) -> bool:
        return not self.error


def record_run(session: Session, job: str, at: dt.datetime, error: str | None = None) -> None:
    """Note that ``job`` ran at ``at`` (and failed with ``error``); the caller commits."""
    name, value = PREFIX + job, json.dumps({"at": at.isoformat(), "error": error or ""})
    moved = session.execute(
        update(ServiceState).where(ServiceState.name == name).values(value=value, updated_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved:
        return
    try:
        with session.begin_nested():  # another scheduler may record the same job just now
            session.add(ServiceState(name=name, value=value, updated_at=at))
    except IntegrityError:
        pass  # theirs is as recent as ours


def last_runs(session: Session) -> dict[str, LastRun]:
    rows = session.scalars(select(ServiceState).where(ServiceState.name.startswith(PREFIX)))
    runs = {}
    for row in rows:
        doc = json.loads(row.value)
        job = row.name.removeprefix(PREFIX)
        runs[job] = LastRun(job, dt.datetime.fromisoformat(doc["at"]), doc.get("error", ""))
    return runs


def is_stale(last: LastRun | None, period: float, now: dt.datetime) -> bool:
    """True when the job has never run, or not for two periods and a minute."""
    if last is None:
        return True
    return (now - last.at).total_seconds() > 2 * period + GRACE_SECONDS
