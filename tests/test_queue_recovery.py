"""A dead worker's messages go back to the queue (workers.queue.recovery), against real Redis.

A "dead worker" here is a second broker that fetched messages (dramatiq moves them into its
unacknowledged set) and never acknowledges them — what a SIGKILLed `iro worker` leaves behind.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from conftest import missing_service
from dramatiq.brokers.redis import RedisBroker

from workers.queue.broker import start_embedded_worker
from workers.queue.ledger import RedisLedger
from workers.queue.recovery import DeadWorkerSweeper, queues_of, requeue_dead_workers

pytestmark = pytest.mark.redis

QUEUE = "letters"


# Not the shared test database (db 15): other sessions flush it mid-test. A namespace of its own
# per test, removed afterwards, so nothing is flushed here.
REDIS_URL = os.environ.get("IRO_TEST_RECOVERY_REDIS_URL", "redis://127.0.0.1:6379/12")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        missing_service(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    ns = f"iro-recovery-{uuid.uuid4().hex[:8]}"
    yield ns
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{ns}:*"):
        client.delete(key)


def broker_for(redis_url: str, namespace: str, **kw: Any) -> RedisBroker:
    broker = RedisBroker(url=redis_url, namespace=namespace, **kw)
    broker.declare_queue(QUEUE)
    return broker


def die_holding(redis_url: str, namespace: str, count: int) -> list[Any]:
    """A worker fetches ``count`` messages and is killed before acknowledging any."""
    doomed = broker_for(redis_url, namespace)
    consumer = doomed.consume(QUEUE, prefetch=count, timeout=100)
    taken = [next(consumer) for _ in range(count)]
    assert all(m is not None for m in taken)
    return taken


def enqueue(broker: RedisBroker, count: int, ledger: RedisLedger) -> list[int]:
    actor = dramatiq.actor(queue_name=QUEUE, broker=broker, actor_name=f"a{uuid.uuid4().hex}")(
        lambda n: None
    )
    for n in range(count):
        ledger.record(n, actor.send_with_options(args=(n,)))
    return list(range(count))


def test_dead_workers_messages_go_back_and_stay_held(redis_url: str, namespace: str) -> None:
    live = broker_for(redis_url, namespace, heartbeat_timeout=15_000)
    ledger = RedisLedger(live.client, namespace, QUEUE)
    ids = enqueue(live, 5, ledger)
    die_holding(redis_url, namespace, 3)
    client = live.client
    assert client.llen(f"{namespace}:{QUEUE}") == 2
    # the ledger counts the dead worker's messages as held (they are still in .msgs) ...
    assert ledger.holding(ids) == set(ids)

    # ... so nothing is moved while its heartbeat is fresh ...
    assert requeue_dead_workers(client, namespace, queues_of(live), 15_000) == 0
    # ... and all three once it is older than the heartbeat timeout
    later = int(time.time() * 1000) + 16_000
    assert requeue_dead_workers(client, namespace, queues_of(live), 15_000, now_ms=later) == 3
    assert client.llen(f"{namespace}:{QUEUE}") == 5
    assert ledger.holding(ids) == set(ids)
    assert not list(client.scan_iter(f"{namespace}:__acks__.*"))
    # a second sweep finds nothing more to move: no message is queued twice
    assert requeue_dead_workers(client, namespace, queues_of(live), 15_000, now_ms=later) == 0
    assert client.llen(f"{namespace}:{QUEUE}") == 5


def test_queues_of_includes_delay_queues(redis_url: str, namespace: str) -> None:
    broker = broker_for(redis_url, namespace)
    assert queues_of(broker) == [QUEUE, f"{QUEUE}.DQ"]


def test_a_running_worker_takes_over_a_dead_workers_messages(
    redis_url: str, namespace: str
) -> None:
    # a short heartbeat timeout and sweep interval so the test need not wait 15 s
    broker = broker_for(redis_url, namespace, heartbeat_timeout=500, maintenance_chance=0)
    broker.add_middleware(DeadWorkerSweeper(0.2))
    done: set[int] = set()
    lock = threading.Lock()

    def work(n: int) -> None:
        with lock:
            done.add(n)

    actor = dramatiq.actor(queue_name=QUEUE, broker=broker, actor_name="work")(work)
    for n in range(6):
        actor.send(n)
    die_holding(redis_url, namespace, 6)  # everything is in the dead worker's hands

    worker = start_embedded_worker(broker, threads=2)
    try:
        deadline = time.monotonic() + 30
        while len(done) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    # dramatiq's own maintenance is off here (chance 0): only the sweeper could have done it
    assert done == set(range(6))
