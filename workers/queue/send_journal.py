"""What a worker handed to the mail server but has not yet recorded as sent.

A worker sends a letter, then records ``sent`` in the store (workers.queue.dispatching). If the
database is down at that moment the record fails, the claim's lease lapses while it is down, and
when it comes back another worker takes the dispatch and — SMTP cannot be asked "did it go?" —
sends it again: a PostgreSQL stop of 20 s in the middle of 1,000 letters delivered 15 twice.

So the worker notes each send here the moment the mail server accepts it, and forgets it once the
store has recorded it. A worker that takes over a dispatch whose claim lapsed (state
``sending``) looks here first and records the send instead of repeating it.

Why here and not elsewhere:
- not by holding the claim: extending a lease is a write to the database that is down, and a
  worker killed meanwhile takes what it knew with it;
- not in a local file: the worker that takes a lapsed claim is usually another process or
  another machine, which cannot read it;
- in Redis, the queue every worker already shares (with AOF persistence in production): it
  survives the worker being killed while the database is down. Each process also keeps its own
  notes in memory, so its next attempt finds them even if Redis failed too; the embedded default
  (no Redis, one process) has only those.

A note says when it was made; one older than the dispatch's recorded ``sent_at`` is left over
from an earlier send (its forget failed) and is ignored, so a letter retried by a person after a
bounce is never taken for sent. Notes carry dispatch ids and Message-IDs, nothing personal.
What remains is SMTP's own window: a worker killed after the server accepted and before its note.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from typing import TYPE_CHECKING, Any, Protocol

from workers.queue.outage import REDIS, outage

if TYPE_CHECKING:
    from workers.config.settings import Settings

# Longer than any outage we would ride out; a note is normally forgotten within milliseconds.
NOTE_TTL_SECONDS = 7 * 24 * 3600
REDIS_TIMEOUT_SECONDS = 2.0


class SendJournal(Protocol):
    def note(self, dispatch_id: int, message_id: str, at: dt.datetime) -> None:
        """The mail server accepted this dispatch's message (never raises)."""
        ...

    def find(self, dispatch_id: int, *, sent_at: dt.datetime | None) -> str | None:
        """The Message-ID of a send noted after ``sent_at`` (the row's last recorded send), or
        None. Raises if it cannot tell (Redis down): the caller must not send meanwhile."""
        ...

    def forget(self, dispatch_id: int) -> None:
        """The store has recorded the send (never raises)."""
        ...


def _encode(message_id: str, at: dt.datetime) -> str:
    return json.dumps({"message_id": message_id, "at": at.isoformat()})


def _decode(text: str | bytes, sent_at: dt.datetime | None) -> str | None:
    entry = json.loads(text)
    noted = dt.datetime.fromisoformat(entry["at"])
    if sent_at is not None:
        if sent_at.tzinfo is None:  # SQLite gives naive UTC back
            sent_at = sent_at.replace(tzinfo=dt.UTC)
        if noted <= sent_at:
            return None  # left over from a send the store did record
    return str(entry["message_id"])


class MemoryJournal:
    """This process's notes: enough where every worker is a thread of one process."""

    def __init__(self) -> None:
        self._notes: dict[int, str] = {}
        self._lock = threading.Lock()

    def note(self, dispatch_id: int, message_id: str, at: dt.datetime) -> None:
        with self._lock:
            self._notes[dispatch_id] = _encode(message_id, at)

    def find(self, dispatch_id: int, *, sent_at: dt.datetime | None) -> str | None:
        with self._lock:
            text = self._notes.get(dispatch_id)
        return None if text is None else _decode(text, sent_at)

    def forget(self, dispatch_id: int) -> None:
        with self._lock:
            self._notes.pop(dispatch_id, None)


class RedisJournal(MemoryJournal):
    """Notes in Redis for every worker, and in this process's memory as well."""

    def __init__(self, client: Any, prefix: str) -> None:
        super().__init__()
        self.client, self.prefix = client, prefix

    def note(self, dispatch_id: int, message_id: str, at: dt.datetime) -> None:
        super().note(dispatch_id, message_id, at)
        try:
            self.client.set(self.prefix + str(dispatch_id), _encode(message_id, at),
                            ex=NOTE_TTL_SECONDS)
        except Exception as exc:  # noqa: BLE001 - memory holds it; the outage is told
            outage(REDIS).failed(exc)
        else:
            outage(REDIS).recovered()

    def find(self, dispatch_id: int, *, sent_at: dt.datetime | None) -> str | None:
        found = super().find(dispatch_id, sent_at=sent_at)
        if found is not None:
            return found
        text = self.client.get(self.prefix + str(dispatch_id))  # raises: then we cannot tell
        return None if text is None else _decode(text, sent_at)

    def forget(self, dispatch_id: int) -> None:
        super().forget(dispatch_id)
        try:
            self.client.delete(self.prefix + str(dispatch_id))
        except Exception as exc:  # noqa: BLE001 - the note expires; sent_at outdates it
            outage(REDIS).failed(exc)


def make_send_journal(settings: Settings) -> SendJournal:
    """In Redis when the settings have one, else in this process's memory.

    Redis keys name the store (a hash of its URL), so two deployments or test stores sharing a
    Redis never read each other's dispatch ids.
    """
    if not settings.redis_url:
        return MemoryJournal()
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
    store = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return RedisJournal(client, f"iro:sent:{store}:")
