"""A message a live worker fetched and then forgot goes again: after a Redis restart dramatiq's
consumer reconnects without what it had fetched, which stays in that worker's acknowledgement set
for as long as the worker lives. The reconciler sends such a letter again once a worker has held
its message for ``stuck_after`` without claiming the dispatch (workers.queue.ledger)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from factories import sqlite_store
from sqlalchemy import update
from test_queue_dispatching import make_letters

from workers.core.clock import SYSTEM_CLOCK
from workers.queue import actors
from workers.queue.broker import make_redis_broker
from workers.queue.ledger import STUCK_AFTER_SECONDS, make_ledger
from workers.queue.scheduler import Scheduler
from workers.store.models import Dispatch

pytestmark = pytest.mark.redis


def test_a_message_a_live_worker_forgot_goes_again(tmp_path: Path, redis_url: str) -> None:
    sessions = sqlite_store(tmp_path)
    forgotten, waiting = make_letters(sessions, 2, state="queued")
    broker = make_redis_broker(redis_url, namespace=f"iro-stuck-{uuid.uuid4().hex[:6]}")
    actors.declare(broker)
    ledger = make_ledger(broker, actors.QUEUE)
    actors.enqueue(broker, [forgotten], lease=30)
    # dramatiq's own consumer takes it (a live worker: its heartbeat is fresh) and never
    # acknowledges it, as one that reconnected after a Redis restart does
    consumer = broker.consume(actors.QUEUE, prefetch=1, timeout=100)
    taken = next(consumer)
    assert taken is not None and taken.args == (forgotten,)
    actors.enqueue(broker, [waiting], lease=30)  # this one waits in the queue, untouched
    assert ledger.holding([forgotten, waiting]) == {forgotten, waiting}
    assert ledger.in_hands([forgotten, waiting]) == {forgotten}

    enqueued: list[int] = []
    sched = Scheduler(sessions=sessions, enqueue=lambda ids: enqueued.extend(ids) or len(ids),
                      holding=ledger.holding, in_hands=ledger.in_hands, lost_after=5,
                      stuck_after=STUCK_AFTER_SECONDS, reconcile_after=30, lease=30)

    def queued_ago(seconds: float) -> None:
        then = SYSTEM_CLOCK.now() - dt.timedelta(seconds=seconds)
        with sessions() as session:
            session.execute(update(Dispatch).values(updated_at=then, due_at=then))
            session.commit()

    queued_ago(STUCK_AFTER_SECONDS / 2)  # a worker may still be about to claim it
    assert sched.run_now(["reconcile"]) == {"reconcile": 0}
    queued_ago(STUCK_AFTER_SECONDS + 10)
    assert sched.run_now(["reconcile"]) == {"reconcile": 1} and enqueued == [forgotten]
    assert sched.run_now(["reconcile"]) == {"reconcile": 0}  # once per cutoff
    consumer.close()
    broker.close()
