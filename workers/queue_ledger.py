"""Which dispatches the queue still holds a message for, so the reconciler re-enqueues only those
the queue lost.

Without it the reconciler took every ``queued`` dispatch older than ``reconcile_after_seconds`` for
lost; under a rate limit a long backlog waits that long by design, so each pass added another
copy of every waiting message (harmless — the claim lets one through — but the queue grew).

- Redis: each enqueue records ``dispatch id → dramatiq's redis_message_id`` (a key with a TTL).
  dramatiq keeps a message in the queue's ``.msgs`` hash (or the delay queue's) from enqueue until
  it is acknowledged, including while a worker holds it or its retry is delayed, and keeps the
  same redis_message_id across retries. So a dispatch is held while its message id is in one of
  those hashes; a flushed Redis or a dropped message shows as absent. A killed worker's unacked
  messages stay held: dramatiq's maintenance puts them back once its heartbeat is stale
  (workers.broker shortens that to 15 s).
- In-process (StubBroker): the queue lives and dies with this process, so a message is lost only
  if this process never enqueued one; the ledger is the set of ids it enqueued.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import dramatiq

# A marker outlives any sane wait in the queue; an expired one only costs a harmless extra copy.
MARKER_TTL_SECONDS = 7 * 24 * 3600
# A queued dispatch's message is recorded within moments of the commit that queued it
# (workers.actors.enqueue runs right after). Past this, a queued dispatch whose message the queue
# does not hold was lost; were the recording ever slower, the cost is one extra copy, which the
# claim turns away.
LOST_AFTER_SECONDS = 5.0


class QueueLedger(Protocol):
    def record(self, dispatch_id: int, message: Any) -> None:
        """Note that ``message`` (as returned by the broker's enqueue) carries this dispatch."""
        ...

    def holding(self, dispatch_ids: list[int]) -> set[int]:
        """The ids among ``dispatch_ids`` whose message the queue still holds."""
        ...


class NoLedger:
    """Knows nothing: every candidate counts as lost (the reconciler's old rule)."""

    def record(self, dispatch_id: int, message: Any) -> None:
        return None

    def holding(self, dispatch_ids: list[int]) -> set[int]:
        return set()


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


class RedisLedger:
    def __init__(self, client: Any, namespace: str, queue_name: str) -> None:
        from dramatiq.common import dq_name

        self.client = client
        self.prefix = f"{namespace}:ledger:{queue_name}:"
        self.hashes = (f"{namespace}:{queue_name}.msgs", f"{namespace}:{dq_name(queue_name)}.msgs")

    def record(self, dispatch_id: int, message: Any) -> None:
        message_id = message.options.get("redis_message_id")
        if message_id:
            self.client.set(self.prefix + str(dispatch_id), message_id, ex=MARKER_TTL_SECONDS)

    def holding(self, dispatch_ids: list[int]) -> set[int]:
        if not dispatch_ids:
            return set()
        markers = self.client.mget([self.prefix + str(i) for i in dispatch_ids])
        known = [(i, m) for i, m in zip(dispatch_ids, markers, strict=True) if m is not None]
        if not known:
            return set()
        pipe = self.client.pipeline(transaction=False)
        for _, message_id in known:
            for name in self.hashes:
                pipe.hexists(name, message_id)
        found = pipe.execute()
        return {
            dispatch_id
            for n, (dispatch_id, _) in enumerate(known)
            if found[2 * n] or found[2 * n + 1]
        }


def make_ledger(broker: dramatiq.Broker, queue_name: str) -> QueueLedger:
    """The ledger that fits ``broker`` (workers.broker.make_broker)."""
    from workers.broker import is_in_process

    if is_in_process(broker):
        return InProcessLedger()
    return RedisLedger(broker.client, broker.namespace, queue_name)  # type: ignore[attr-defined]
