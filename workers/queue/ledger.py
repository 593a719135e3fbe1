"""Which dispatches the queue still holds a message for, so the reconciler re-enqueues only those
the queue lost.

Without it the reconciler took every ``queued`` dispatch older than ``reconcile_after_seconds`` for
lost; under a rate limit a long backlog waits that long by design, so each pass added another
copy of every waiting message (harmless — the claim lets one through — but the queue grew).

- Redis: every enqueue of a send actor's message (either queue, workers.queue.actors) records
  ``dispatch id → dramatiq's redis_message_id`` (a key with a TTL), through ``LedgerMiddleware``
  on every broker (workers.queue.broker). dramatiq gives each enqueue a new redis_message_id — the
  first send, a retry put in the delay queue, and its move back to the queue when due — and
  enqueues the new message before it acknowledges the old one (so does a retry moved to the
  urgent queue), so the marker always names the message that is waiting. dramatiq keeps a
  message in the queue's ``.msgs`` hash (or the delay queue's) from enqueue until it is
  acknowledged, including while a worker holds it. So a dispatch is held while its message id is
  in one of those hashes, of the ordinary or the urgent queue; a flushed Redis or a dropped
  message shows as absent. A killed worker's unacked messages stay held: they go back to the
  queue once its heartbeat is stale (workers.queue.recovery).
  A live worker's unacked messages are held too — except one that a worker has had for longer than
  ``STUCK_AFTER_SECONDS`` without claiming its dispatch: a worker claims a dispatch the moment it
  takes its message, but a consumer that reconnects after a Redis restart forgets what it had
  fetched, which then sits in that worker's acknowledgement set for as long as the worker lives
  (``in_hands`` tells the reconciler which messages a worker holds).
- In-process (StubBroker): the queue lives and dies with this process, so a message is lost only
  if this process never enqueued one; the ledger is the set of ids it enqueued.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import dramatiq

# A marker outlives any sane wait in the queue; an expired one only costs a harmless extra copy.
MARKER_TTL_SECONDS = 7 * 24 * 3600
# A queued dispatch's message is recorded within moments of the commit that queued it or made it
# due again (workers.queue.actors.enqueue runs right after; a retry's message was recorded before
# its
# row went back to queued). Past this, a queued and due dispatch whose message the queue does not
# hold was lost; were the recording ever slower, the cost is one extra copy, which the claim turns
# away.
LOST_AFTER_SECONDS = 5.0
# A worker that holds a message this long without claiming its dispatch has forgotten it (see
# above). Fetched messages wait for a free thread at most a few letters' time; a wrong guess costs
# one extra copy, which the claim turns away.
STUCK_AFTER_SECONDS = 120.0


class QueueLedger(Protocol):
    def record(self, dispatch_id: int, message: Any) -> None:
        """Note that ``message`` (as returned by the broker's enqueue) carries this dispatch."""
        ...

    def holding(self, dispatch_ids: list[int]) -> set[int]:
        """The ids among ``dispatch_ids`` whose message the queue still holds."""
        ...

    def in_hands(self, dispatch_ids: list[int]) -> set[int]:
        """The ids among ``dispatch_ids`` whose message a live worker has taken and not
        acknowledged (a subset of ``holding``)."""
        ...


class InProcessLedger:
    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()

    def record(self, dispatch_id: int, message: Any) -> None:
        with self._lock:
            self._ids.add(dispatch_id)

    def holding(self, dispatch_ids: list[int]) -> set[int]:
        with self._lock:
            return self._ids.intersection(dispatch_ids)

    def in_hands(self, dispatch_ids: list[int]) -> set[int]:
        return set()  # the in-process worker never forgets a message it took


class RedisLedger:
    """Markers named after ``queue_name``; messages looked for in each of ``queue_names`` (by
    default that one queue) and their delay queues."""

    def __init__(
        self, client: Any, namespace: str, queue_name: str, queue_names: tuple[str, ...] = ()
    ) -> None:
        from dramatiq.common import dq_name

        self.client = client
        self.namespace = namespace
        self.queue_names = tuple(dict.fromkeys(
            name for queue in (queue_names or (queue_name,)) for name in (queue, dq_name(queue))))
        self.prefix = f"{namespace}:ledger:{queue_name}:"
        self.hashes = tuple(f"{namespace}:{name}.msgs" for name in self.queue_names)

    def record(self, dispatch_id: int, message: Any) -> None:
        message_id = message.options.get("redis_message_id")
        if message_id:
            self.client.set(self.prefix + str(dispatch_id), message_id, ex=MARKER_TTL_SECONDS)

    def holding(self, dispatch_ids: list[int]) -> set[int]:
        known = self._markers(dispatch_ids)
        if not known:
            return set()
        pipe = self.client.pipeline(transaction=False)
        for _, message_id in known:
            for name in self.hashes:
                pipe.hexists(name, message_id)
        found = pipe.execute()
        width = len(self.hashes)
        return {
            dispatch_id
            for n, (dispatch_id, _) in enumerate(known)
            if any(found[width * n : width * (n + 1)])
        }


    def in_hands(self, dispatch_ids: list[int]) -> set[int]:
        known = self._markers(dispatch_ids)
        if not known:
            return set()
        # dramatiq's own keys (dramatiq/brokers/redis/dispatch.lua): each live worker's
        # acknowledgement set per queue holds the ids of the messages it has fetched
        workers = self.client.zrange(f"{self.namespace}:__heartbeats__", 0, -1)
        pipe = self.client.pipeline(transaction=False)
        for worker in workers:
            name = worker.decode() if isinstance(worker, bytes) else str(worker)
            for queue in self.queue_names:
                pipe.smembers(f"{self.namespace}:__acks__.{name}.{queue}")
        taken: set[bytes] = set().union(*pipe.execute()) if workers else set()
        return {dispatch_id for dispatch_id, message_id in known if message_id in taken}

    def _markers(self, dispatch_ids: list[int]) -> list[tuple[int, bytes]]:
        if not dispatch_ids:
            return []
        markers = self.client.mget([self.prefix + str(i) for i in dispatch_ids])
        return [(i, m) for i, m in zip(dispatch_ids, markers, strict=True) if m is not None]


class LedgerMiddleware(dramatiq.Middleware):
    """Records each message of the given actors in a ledger as it is enqueued, wherever that
    happens: the scheduler's first send, and a worker's retry and delayed-message handling."""

    def __init__(self, ledger: QueueLedger, actor_names: tuple[str, ...]) -> None:
        self.ledger = ledger
        self.actor_names = actor_names

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        if message.actor_name in self.actor_names and message.args:
            self.ledger.record(int(message.args[0]), message)


def is_in_process(broker: dramatiq.Broker) -> bool:
    """A StubBroker: the embedded default's queue, in this process's memory."""
    from dramatiq.brokers.stub import StubBroker

    return isinstance(broker, StubBroker)


def make_ledger(broker: dramatiq.Broker, queue_name: str) -> QueueLedger:
    """The ledger of ``broker``'s send actors, recording from now on (workers.queue.broker attaches
    one
    to every Redis broker it makes, so worker processes record their retries too). Its markers
    are named after ``queue_name``; it looks for messages in both send queues."""
    from workers.queue.actors import QUEUES, SEND, SENDS

    for middleware in broker.middleware:
        if isinstance(middleware, LedgerMiddleware) and SEND in middleware.actor_names:
            return middleware.ledger
    ledger: QueueLedger
    if is_in_process(broker):
        ledger = InProcessLedger()
    else:
        ledger = RedisLedger(broker.client, broker.namespace, queue_name,  # type: ignore[attr-defined]
                             tuple(dict.fromkeys((queue_name, *QUEUES))))
    broker.add_middleware(LedgerMiddleware(ledger, SENDS))
    return ledger
