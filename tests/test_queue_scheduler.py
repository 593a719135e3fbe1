"""Scheduler, reconciler and actors on the in-process queue (dramatiq StubBroker + Worker)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from factories import sqlite_store
from fakes.smtp import SmtpServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from test_queue_dispatching import MAILBOX, dispatcher, make_letters

from workers.config.settings import Settings
from workers.core.clock import SYSTEM_CLOCK, SystemClock
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue import actors
from workers.queue.broker import make_broker, start_embedded_worker
from workers.queue.scheduler import Job, Scheduler, claim_slot
from workers.store.models import AuditEvent, Dispatch

utcnow = SYSTEM_CLOCK.now  # relative times only: these tests never need a date


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return sqlite_store(tmp_path)


@pytest.fixture
def broker(
    sessions: sessionmaker[Session], smtp_server: SmtpServer
) -> Iterator[dramatiq.Broker]:
    broker = make_broker(Settings())  # no redis_url: the in-process queue
    actors.declare(broker)
    transport = SmtpTransport(SmtpConfig(host=smtp_server.host, port=smtp_server.port,
                                         mailbox=MAILBOX))
    actors.use(lambda: dispatcher(sessions, transport))
    worker = start_embedded_worker(broker, threads=4)
    yield broker
    worker.stop()
    transport.close()


def scheduler(sessions: sessionmaker[Session], broker: dramatiq.Broker) -> Scheduler:
    return Scheduler(sessions=sessions, enqueue=lambda ids: actors.enqueue(broker, ids, lease=30),
                     tick_seconds=60, reconcile_after=30, lease=30)


def states(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Dispatch.state).order_by(Dispatch.id)))


def test_due_dispatches_are_sent_and_future_ones_wait(
    sessions: sessionmaker[Session], broker: dramatiq.Broker, smtp_server: SmtpServer
) -> None:
    make_letters(sessions, 20, state="pending")
    make_letters(sessions, 2, state="pending", due_at=utcnow() + dt.timedelta(days=3))

    done = scheduler(sessions, broker).tick()
    broker.join(actors.QUEUE, fail_fast=True)  # type: ignore[call-arg]

    assert done["enqueue_due"] == 20
    assert states(sessions) == ["sent"] * 20 + ["pending"] * 2
    assert len(set(smtp_server.message_ids())) == 20 == len(smtp_server.received)


def test_two_schedulers_in_one_slot_enqueue_once(
    sessions: sessionmaker[Session], broker: dramatiq.Broker, smtp_server: SmtpServer
) -> None:
    make_letters(sessions, 5, state="pending")
    first, second = scheduler(sessions, broker), scheduler(sessions, broker)

    a, b = first.tick(), second.tick()
    broker.join(actors.QUEUE)

    assert a == {"enqueue_due": 5, "reconcile": 0} and b == {}
    assert len(smtp_server.received) == 5


def test_claim_slot(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert claim_slot(session, "inbox", 100, utcnow())
    with sessions() as session:
        assert not claim_slot(session, "inbox", 100, utcnow())
        assert not claim_slot(session, "inbox", 99, utcnow())
        assert claim_slot(session, "inbox", 101, utcnow())
        assert claim_slot(session, "reminders", 100, utcnow())


def test_reconciler_re_enqueues_what_the_queue_lost(
    sessions: sessionmaker[Session], broker: dramatiq.Broker, smtp_server: SmtpServer
) -> None:
    # a queued row whose message vanished, a sending row whose worker died, a fresh queued row
    lost, dead, fresh = make_letters(sessions, 3, state="queued")
    old = utcnow() - dt.timedelta(minutes=2)
    with sessions() as session:
        session.execute(update(Dispatch).where(Dispatch.id == lost)
                        .values(updated_at=old, due_at=old))
        session.execute(update(Dispatch).where(Dispatch.id == dead)
                        .values(state="sending", claimed_at=old, updated_at=old, attempts=1))
        session.commit()
    sched = scheduler(sessions, broker)

    done = sched.run_now(["reconcile"])
    again = sched.run_now(["reconcile"])  # touched: not re-enqueued again within reconcile_after
    broker.join(actors.QUEUE)

    assert done == {"reconcile": 2} and again == {"reconcile": 0}
    assert states(sessions) == ["sent", "sent", "queued"]
    assert len(smtp_server.received) == 2


def _queued_ago(sessions: sessionmaker[Session], ids: list[int], seconds: float) -> None:
    then = utcnow() - dt.timedelta(seconds=seconds)
    with sessions() as session:
        session.execute(update(Dispatch).where(Dispatch.id.in_(ids))
                        .values(updated_at=then, due_at=then))
        session.commit()


def test_reconciler_takes_back_every_page_in_one_pass(
    sessions: sessionmaker[Session], broker: dramatiq.Broker, smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a flushed Redis loses a whole backlog: all of it must go back at once, not a page a tick
    monkeypatch.setattr("workers.queue.scheduler.BATCH", 3)
    lost = make_letters(sessions, 7, state="queued")
    _queued_ago(sessions, lost, 120)

    done = scheduler(sessions, broker).run_now(["reconcile"])
    broker.join(actors.QUEUE)

    assert done == {"reconcile": 7}
    assert states(sessions) == ["sent"] * 7
    assert len(set(smtp_server.message_ids())) == 7


def test_a_ledger_lets_the_reconciler_take_back_a_lost_message_sooner(
    sessions: sessionmaker[Session], broker: dramatiq.Broker, smtp_server: SmtpServer
) -> None:
    # queued 10 s ago: under reconcile_after (30 s) but over lost_after (5 s)
    held, lost = make_letters(sessions, 2, state="queued")
    _queued_ago(sessions, [held, lost], 10)
    sched = scheduler(sessions, broker)
    sched.holding = lambda ids: {held} & set(ids)

    assert sched.run_now(["reconcile"]) == {"reconcile": 0}  # no lost_after: wait reconcile_after
    sched.lost_after = 5
    assert sched.run_now(["reconcile"]) == {"reconcile": 1}  # only the one the queue lost
    broker.join(actors.QUEUE)

    assert states(sessions) == ["queued", "sent"]
    assert len(smtp_server.received) == 1


def test_paused_scheduler_leaves_everything_alone(
    sessions: sessionmaker[Session], broker: dramatiq.Broker
) -> None:
    make_letters(sessions, 2, state="pending")
    sched = scheduler(sessions, broker)
    sched.is_paused = lambda _session: True

    assert sched.run_now(["enqueue_due", "reconcile"]) == {"enqueue_due": 0, "reconcile": 0}
    assert states(sessions) == ["pending", "pending"]


def test_registered_job_runs_once_per_slot(
    sessions: sessionmaker[Session], broker: dramatiq.Broker
) -> None:
    calls: list[dt.datetime] = []
    job = Job("reminders", lambda ctx: calls.append(ctx.now) or 1, period=3600)
    sched = scheduler(sessions, broker)

    sched.tick(jobs=[job])
    sched.tick(jobs=[job])
    sched.clock = SystemClock(dt.timedelta(hours=1))
    sched.tick(jobs=[job])

    assert len(calls) == 2


def test_retries_exhausted_fail_the_dispatch_once(
    sessions: sessionmaker[Session], broker: dramatiq.Broker
) -> None:
    [dispatch_id] = make_letters(sessions, 1, state="queued")
    with sessions() as session:
        session.execute(update(Dispatch).values(last_error="connection failed (SMTP 421)"))
        session.commit()

    # what dramatiq's Retries middleware sends to on_retry_exhausted after the last attempt
    broker.get_actor(actors.GAVE_UP).send(
        {"args": [dispatch_id], "kwargs": {}, "options": {}}, {"retries": 8, "max_retries": 8}
    )
    broker.join(actors.QUEUE)

    with sessions() as session:
        failed = session.get(Dispatch, dispatch_id)
        assert failed is not None and failed.state == "failed"
        assert "SMTP 421" in (failed.last_error or "") and "9 attempts" in failed.last_error
        events = session.scalars(select(AuditEvent.action)).all()
    assert events == ["dispatch.failed"]


def test_retry_policy() -> None:
    assert actors.should_retry(actors.MAX_RETRIES - 1, RuntimeError())
    assert not actors.should_retry(actors.MAX_RETRIES, RuntimeError())
    # throttling never uses up the ordinary retries
    assert actors.should_retry(actors.MAX_RETRIES * 10, actors.Throttled("wait", delay=1000))
