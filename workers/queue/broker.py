"""The dramatiq broker, chosen by settings: Redis in production, in-process otherwise.

Nothing here runs at import: callers build the broker with ``make_broker`` and declare the
actors on it (workers.queue.actors.declare), so ``iro --help`` never touches Redis.

dramatiq's own recovery of a killed worker's messages waits for the worker's heartbeat to go
stale (60 s) and for a maintenance pass (0.1% of Redis commands): we measured 14.5 minutes.
We shorten the heartbeat timeout, and every worker process sweeps dead workers' messages back to
the queue every few seconds (workers.queue.recovery); the scheduler's reconciler re-enqueues
from the store whatever Redis lost outright.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workers.queue.ledger import is_in_process

if TYPE_CHECKING:
    import dramatiq

    from workers.config.settings import Settings

# Workers heartbeat on every fetch (at least once a second when idle): 15 s of silence is death.
HEARTBEAT_TIMEOUT_MS = 15_000
# One Redis command in a hundred runs maintenance (requeueing a dead worker's unacked messages).
MAINTENANCE_CHANCE = 10_000
REDIS_NAMESPACE = "iro"
# How often each worker process looks for dead workers' messages (workers.queue.recovery).
SWEEP_SECONDS = 3.0


def make_broker(settings: Settings, *, namespace: str = REDIS_NAMESPACE) -> dramatiq.Broker:
    """A RedisBroker on ``settings.redis_url``, or a StubBroker for the in-process queue."""
    if settings.redis_url:
        return make_redis_broker(settings.redis_url, namespace=namespace)
    from dramatiq.brokers.stub import StubBroker

    return StubBroker()


def make_redis_broker(url: str, *, namespace: str = REDIS_NAMESPACE) -> dramatiq.Broker:
    import redis
    from dramatiq.brokers.redis import RedisBroker

    from workers.errors import QueueUnavailableError
    from workers.queue.recovery import DeadWorkerSweeper

    broker = RedisBroker(
        url=url,
        namespace=namespace,
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    broker.add_middleware(DeadWorkerSweeper(SWEEP_SECONDS))  # runs only where a Worker boots
    from workers.queue.actors import QUEUE
    from workers.queue.ledger import make_ledger

    make_ledger(broker, QUEUE)  # every enqueue recorded, a worker's retries included
    try:
        broker.client.ping()
    except redis.exceptions.RedisError as exc:
        raise QueueUnavailableError(
            f"cannot reach Redis at {_display(url)}: {type(exc).__name__}. "
            "Start Redis or check IRO_REDIS_URL"
        ) from None
    return broker


def start_embedded_worker(broker: dramatiq.Broker, threads: int) -> Any:
    """A dramatiq Worker in this process's threads (the embedded default, and `iro run`)."""
    from dramatiq import Worker

    from workers.queue.time_budget import TimeBudget

    if not any(isinstance(m, TimeBudget) for m in broker.middleware):
        broker.add_middleware(TimeBudget())  # waits for LibreOffice end before the time limit
    worker = Worker(broker, worker_threads=threads, worker_timeout=200)
    worker.start()
    return worker


def queue_sizes(broker: dramatiq.Broker, queue_name: str) -> dict[str, int]:
    """Messages waiting and delayed, for `iro dispatches` and monitoring."""
    from dramatiq.common import dq_name

    if is_in_process(broker):
        queues: dict[str, Any] = getattr(broker, "queues", {})
        return {
            "waiting": queues[queue_name].qsize() if queue_name in queues else 0,
            "delayed": queues[dq_name(queue_name)].qsize() if dq_name(queue_name) in queues else 0,
        }
    client = broker.client  # type: ignore[attr-defined]
    ns = broker.namespace  # type: ignore[attr-defined]
    return {
        "waiting": int(client.llen(f"{ns}:{queue_name}")),
        "delayed": int(client.zcard(f"{ns}:{dq_name(queue_name)}"))
        if client.type(f"{ns}:{dq_name(queue_name)}") == b"zset"
        else int(client.llen(f"{ns}:{dq_name(queue_name)}")),
    }


def queue_health(
    broker: dramatiq.Broker, queue_name: str, urgent_queue: str | None = None
) -> dict[str, int]:
    """What to watch on Redis, for `iro dispatches status`: messages waiting to be fetched (and,
    given ``urgent_queue``, those waiting on it: deferred, recovered and re-sent letters, which go
    first), retries waiting for their time (in Redis or held by a worker), dead letters
    (dramatiq's ``.XQ``: a message whose retries ran out; kept 7 days) and live worker
    processes."""
    import time

    from dramatiq.common import dq_name

    names = [queue_name] + ([urgent_queue] if urgent_queue else [])
    if is_in_process(broker):
        sizes = [queue_sizes(broker, name) for name in names]
        health = {"waiting": sizes[0]["waiting"]}
        if urgent_queue:
            health["urgent"] = sizes[1]["waiting"]
        return {**health, "retrying": sum(s["delayed"] for s in sizes), "dead_letters": 0,
                "live_workers": 0}
    client = broker.client  # type: ignore[attr-defined]
    ns = broker.namespace  # type: ignore[attr-defined]
    since = time.time() * 1000 - HEARTBEAT_TIMEOUT_MS
    health = {"waiting": int(client.llen(f"{ns}:{queue_name}"))}
    if urgent_queue:
        health["urgent"] = int(client.llen(f"{ns}:{urgent_queue}"))
    return {
        **health,
        "retrying": sum(int(client.hlen(f"{ns}:{dq_name(name)}.msgs")) for name in names),
        "dead_letters": sum(int(client.zcard(f"{ns}:{name}.XQ")) for name in names),
        "live_workers": int(client.zcount(f"{ns}:__heartbeats__", since, "+inf")),
    }


def _display(url: str) -> str:
    """The URL without any password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
