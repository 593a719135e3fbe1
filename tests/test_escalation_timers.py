"""The escalation timer scan, run as a scheduler job on a real SQLite store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from factories import make_child, sqlite_store
from sqlalchemy import select
from test_escalation_service import IRO, IRO_MANAGER, shipped

from workers.core.clock import FixedClock, london_moment
from workers.escalation.policy import Policy
from workers.escalation.service import EscalationService
from workers.escalation.timers import JOB_NAME, make_job, scan
from workers.queue import scheduler as scheduler_module
from workers.queue.scheduler import Scheduler, register_job
from workers.store.models import Dispatch, Escalation

D = dt.date


def with_auto_advance(policy: Any, stage: str) -> Policy:
    stages = [
        s.model_copy(update={"auto_advance_on_timeout": True}) if s.key == stage else s
        for s in policy.stages  # the shipped rules' pydantic stages
    ]
    return dataclasses.replace(policy, stages=stages)


def test_scan_tells_once_advances_by_timeout_and_flags_the_ceiling(tmp_path: Path) -> None:
    base, directory = shipped()
    policy = with_auto_advance(base, "deputy_manager")
    store = sqlite_store(tmp_path)
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        svc = EscalationService(session, policy, directory, clock=FixedClock.on(D(2026, 3, 2)))
        a = svc.raise_(child.ref, concern="c", category="other").id  # informal, due 9 March
        b = svc.raise_(child.ref, concern="c", category="other", stage="deputy_manager").id
        c = svc.raise_(child.ref, concern="c", category="other").id
        svc.resolve(c, outcome="ok", by=IRO)

    assert scan(store, policy, directory, london_moment(D(2026, 3, 9))).acted == 0
    r = scan(store, policy, directory, london_moment(D(2026, 3, 10)))
    assert (r.looked_at, r.overdue, r.timed_out, r.ceiling) == (2, [a], [b], [])
    assert r.planned == 1 + 4  # the IRO told; group manager notified, IRO/TM/deputy copied
    again = scan(store, policy, directory, london_moment(D(2026, 3, 11)))
    assert again.acted == 0 and again.planned == 0
    # 21 working days after 2 March
    r = scan(store, policy, directory, london_moment(D(2026, 3, 31)))
    assert sorted(r.ceiling) == [a, b] and r.overdue == [b]
    with store() as session:
        assert session.get(Escalation, b).stage == "group_manager"  # type: ignore[union-attr]
        ceiling = session.scalars(
            select(Dispatch.recipient).where(Dispatch.key.like(f"ESC-{a}/ceiling/%"))
        ).all()
        assert sorted(ceiling) == sorted([IRO, IRO_MANAGER])


def test_runs_as_a_scheduler_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy, directory = shipped()
    store = sqlite_store(tmp_path)
    now = london_moment(D(2027, 6, 15))
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        raised_on = now.date() - dt.timedelta(days=60)
        EscalationService(session, policy, directory, clock=FixedClock.on(raised_on)).raise_(
            child.ref, concern="c", category="other"
        )
    # registered for this test only: other tests' schedulers must not see it
    monkeypatch.setattr(scheduler_module, "_JOBS", dict(scheduler_module._JOBS))
    register_job(make_job(lambda: (policy, directory)))
    sent: list[int] = []

    def enqueue(ids: list[int]) -> int:
        sent.extend(ids)
        return len(ids)

    # the scheduler's clock a little ahead, so the rows planned just now are due
    scheduler = Scheduler(store, enqueue=enqueue, clock=FixedClock(now + dt.timedelta(minutes=5)))
    assert scheduler.run_now([JOB_NAME]) == {JOB_NAME: 3}  # overdue to the IRO; ceiling to two
    assert scheduler.run_now([JOB_NAME]) == {JOB_NAME: 0}
    assert scheduler.run_now(["enqueue_due"]) == {"enqueue_due": 5}  # with the 2 stage notices
    assert len(sent) == 5
