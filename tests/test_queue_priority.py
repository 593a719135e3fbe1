"""Letters already on their way go ahead of a long backlog, not behind it.

A dramatiq worker on Redis with a backlog of 300 letters queued and an SMTP server that takes
100 ms over each, and three letters that had already been started when something went wrong:

- *deferred*: the server answered 451 (try again later) to its recipient once;
- *retaken*: a worker that died mid-send still held it (its claim had 5 s left);
- *re-sent*: a worker died holding it long ago, and its message waits at the back of the queue
  (where dramatiq puts a dead worker's messages back); the reconciler sends it again.

Each goes on the urgent queue and arrives while most of the backlog is still waiting: asserted by
the order in which the server received them, not by time. Behind the backlog, as before, they
went 183-241 s after the fault in a long queue (issue 21).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from factories import postgres_store
from fakes.smtp import SmtpServer, free_port
from sqlalchemy import update
from test_crash import wait_until
from test_queue_dispatching import MAILBOX, dispatcher, make_letters, row

from workers.core.clock import SYSTEM_CLOCK
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue import actors
from workers.queue.broker import make_redis_broker, queue_sizes, start_embedded_worker
from workers.queue.ledger import make_ledger
from workers.queue.scheduler import Scheduler
from workers.store.models import Dispatch

utcnow = SYSTEM_CLOCK.now  # relative times only

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

BACKLOG = 300
LEASE = 30.0
# The backlog takes about 15-30 s here; a letter that waited its turn behind it arrives last.
STILL_WAITING = 100


class RelaySmtpServer(SmtpServer):
    """Takes 100 ms over each message, as a relay does, so a backlog takes a while to drain."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.1)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay() -> Iterator[SmtpServer]:
    port = free_port()
    server = RelaySmtpServer(host="127.0.0.1", port=port)
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    yield server
    controller.stop()


def test_deferred_and_recovered_letters_go_before_the_backlog_drains(
    pg_database: str, redis_url: str, relay: SmtpServer
) -> None:
    sessions = postgres_store(pg_database)
    retaken, deferred, *backlog, resent = make_letters(sessions, BACKLOG + 3)
    now = utcnow()
    with sessions() as session:
        session.execute(update(Dispatch).where(Dispatch.id == retaken).values(
            state="sending", claimed_at=now - dt.timedelta(seconds=LEASE - 5), attempts=1))
        long_ago = now - dt.timedelta(minutes=5)
        session.execute(update(Dispatch).where(Dispatch.id == resent).values(
            state="sending", claimed_at=long_ago, updated_at=long_ago, attempts=1))
        session.commit()
    relay.refuse_recipient(row(sessions, deferred).recipient, 451, "4.7.1 try again later",
                           times=1)
    transport = SmtpTransport(SmtpConfig(host=relay.host, port=relay.port, mailbox=MAILBOX,
                                         timeout_seconds=10))
    broker = make_redis_broker(redis_url, namespace="iro-priority")
    ledger = make_ledger(broker, actors.QUEUE)
    actors.declare(broker)
    actors.use(lambda: dispatcher(sessions, transport))
    # the first two at the front of the queue, the dead worker's message at the back
    actors.enqueue(broker, [retaken, deferred, *backlog, resent], lease=LEASE)
    scheduler = Scheduler(
        sessions=sessions, lease=LEASE, reconcile_after=20, holding=ledger.holding, lost_after=5,
        enqueue=lambda ids: actors.enqueue(broker, ids, lease=LEASE),
        enqueue_urgent=lambda ids: actors.enqueue(broker, ids, lease=LEASE, urgent=True),
    )

    worker = start_embedded_worker(broker, threads=2)
    try:
        # its lease is long over: sent again though the queue still holds its old message
        assert scheduler.run_now(["reconcile"]) == {"reconcile": 1}
        relay.wait_for(BACKLOG + 3, timeout=180)
        wait_until(lambda: queue_sizes(broker, actors.QUEUE)["waiting"] == 0, 30,
                   "the old copy of the re-sent letter to be turned away")
    finally:
        worker.stop()
        transport.close()

    keys = [str(m["X-IRO-Dispatch"]) for m in relay.messages]
    assert Counter(keys).most_common(1)[0][1] == 1 and len(keys) == BACKLOG + 3
    for name, dispatch_id in (("deferred", deferred), ("retaken", retaken),
                              ("re-sent", resent)):
        after = len(keys) - 1 - keys.index(row(sessions, dispatch_id).key)
        assert after >= STILL_WAITING, f"the {name} letter arrived with {after} letters after it"
    assert {row(sessions, i).state for i in (retaken, deferred, resent)} == {"sent"}
