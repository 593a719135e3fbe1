"""Give a dead worker's messages back to the queue within seconds, not minutes.

A dramatiq worker moves each message it fetches (its prefetch and, for the delay queue, every
retry waiting for its time) into its own "unacknowledged" set in Redis. If the worker is killed,
those messages stay there: still in the queue's ``.msgs`` hash, so the ledger
(workers.queue.ledger) rightly reports them as held and the reconciler leaves them alone, but no
live worker will ever fetch them. dramatiq gives them back only in its "maintenance", which runs
on a random 1 in 100 (our setting) of the commands *for that queue*; on a quiet queue that took
from 15 s to several minutes in our crash test, so letters missed the 60-second bound (issue 4 §2).

So every worker process runs a sweeper thread: every few seconds it moves the unacknowledged
messages of every worker whose heartbeat is older than the heartbeat timeout back onto their
queue, in one Lua script (atomic, like dramatiq's own maintenance, and using the same keys:
``{ns}:__heartbeats__``, ``{ns}:__acks__.{worker}.{queue}``, ``{ns}:{queue}`` and its ``.msgs``).
A worker that was only slow, not dead, loses nothing: its message is processed again by someone
and the dispatch's claim (workers.queue.dispatching) lets only one copy do the work.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import dramatiq
from dramatiq.common import dq_name

from workers.queue.outage import REDIS, dependency_of, outage

log = logging.getLogger(__name__)

# KEYS[1] heartbeats zset; ARGV: namespace, cutoff (ms), then the queue names to sweep.
# The dead worker stays in the heartbeats set: dramatiq's maintenance removes it once it holds
# nothing in any queue, including queues this process does not know.
_SWEEP = """
local namespace = ARGV[1]
local dead = redis.call("zrangebyscore", KEYS[1], 0, ARGV[2])
local moved = 0
for _, worker in ipairs(dead) do
    local holds = false
    for i = 3, #ARGV do
        local queue = namespace .. ":" .. ARGV[i]
        local acks = namespace .. ":__acks__." .. worker .. "." .. ARGV[i]
        local ids = redis.call("smembers", acks)
        for _, id in ipairs(ids) do
            if redis.call("hexists", queue .. ".msgs", id) == 1 then
                redis.call("rpush", queue, id)
                moved = moved + 1
            end
        end
        redis.call("del", acks)
    end
end
return moved
"""


def queues_of(broker: dramatiq.Broker) -> list[str]:
    """Every queue declared on ``broker`` and its delay queue."""
    names = set(broker.get_declared_queues())
    return sorted(names | {dq_name(n) for n in names if not n.endswith(".DQ")})


def requeue_dead_workers(
    client: Any, namespace: str, queue_names: Iterable[str], heartbeat_timeout_ms: int,
    *, now_ms: int | None = None,
) -> int:
    """Move dead workers' unacknowledged messages back onto their queues; returns how many."""
    queues = list(queue_names)
    if not queues:
        return 0
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    return int(client.eval(_SWEEP, 1, f"{namespace}:__heartbeats__", namespace,
                           now - heartbeat_timeout_ms, *queues))


class DeadWorkerSweeper(dramatiq.Middleware):
    """In each worker process, a daemon thread sweeping every ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(broker,), daemon=True,
                                        name="iro-dead-worker-sweeper")
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()

    def _run(self, broker: dramatiq.Broker) -> None:
        while not self._stop.wait(self.interval):
            self.sweep(broker)

    def sweep(self, broker: dramatiq.Broker) -> int:
        """One pass; Redis errors are logged and the next pass tries again."""
        import redis

        try:
            moved = requeue_dead_workers(
                broker.client, broker.namespace, queues_of(broker),  # type: ignore[attr-defined]
                broker.heartbeat_timeout,  # type: ignore[attr-defined]
            )
        except redis.exceptions.RedisError as exc:
            if dependency_of(exc) is None:
                log.warning("dead-worker sweep failed (%s); will try again", type(exc).__name__)
            else:  # told once a minute, with every other loop of this process
                outage(REDIS).failed(exc)
            return 0
        outage(REDIS).recovered()
        if moved:
            log.warning("gave %d messages of a dead worker back to the queue", moved)
        return moved
