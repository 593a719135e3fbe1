"""The "sending paused" flag: set by the first authentication failure, seen by every worker.

A refused password would otherwise fail every queued dispatch in turn (a thousand failures and
a thousand alerts). Instead the first worker to meet it sets this flag — atomically, so exactly
one caller learns "you paused it" and raises the one alert — and every worker checks it before
sending. A person fixes the credentials and resumes (``iro dispatches resume``).

Two homes for the flag, chosen by settings through ``make_pause_flag``:
- the ``service_state`` row ``sending.paused`` in the store (always shared by all workers; the
  module-level functions below work on the caller's session, and the caller commits);
- a Redis key when Redis is configured (``RedisPauseFlag``; atomic ``SET NX``).
Both answer the same three calls — ``is_paused(session)``, ``pause(session, reason)``,
``resume(session)`` — so a dispatcher takes either.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.store.models import ServiceState

if TYPE_CHECKING:
    from workers.config.settings import Settings

FLAG = "sending.paused"
REDIS_KEY = "iro:sending-paused"
MAX_REASON = 500  # reasons are our own error messages: ids and the mailbox, no personal data


@dataclass(frozen=True)
class PauseState:
    reason: str
    since: dt.datetime


class PauseFlag(Protocol):
    def is_paused(self, session: Session | None = None) -> bool: ...

    def pause(self, session: Session | None, reason: str) -> bool:
        """Set the flag; True only for the one caller that set it (that caller alerts)."""
        ...

    def resume(self, session: Session | None = None) -> bool:
        """Clear the flag; True if sending was paused."""
        ...

    def state(self, session: Session | None = None) -> PauseState | None: ...


# -- the store-backed flag: module-level functions on the caller's session ------------------


def state(session: Session) -> PauseState | None:
    row = session.get(ServiceState, FLAG, populate_existing=True)
    if row is None:
        return None
    since = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=dt.UTC)
    return PauseState(reason=row.value, since=since)


def is_paused(session: Session) -> bool:
    return state(session) is not None


def pause(session: Session, reason: str) -> bool:
    if is_paused(session):
        return False
    try:
        with session.begin_nested():  # another worker may pause at the same moment
            session.add(ServiceState(name=FLAG, value=reason[:MAX_REASON]))
    except IntegrityError:
        return False
    return True


def resume(session: Session) -> bool:
    result = session.execute(delete(ServiceState).where(ServiceState.name == FLAG))
    return bool(result.rowcount)  # type: ignore[attr-defined]


class StorePauseFlag:
    """The module-level functions as a PauseFlag object."""

    def is_paused(self, session: Session | None = None) -> bool:
        return is_paused(_need(session))

    def pause(self, session: Session | None, reason: str) -> bool:
        return pause(_need(session), reason)

    def resume(self, session: Session | None = None) -> bool:
        return resume(_need(session))

    def state(self, session: Session | None = None) -> PauseState | None:
        return state(_need(session))


def _need(session: Session | None) -> Session:
    if session is None:
        raise TypeError("the store-backed pause flag needs the caller's session")
    return session


# -- the Redis-backed flag -----------------------------------------------------------------


class RedisPauseFlag:
    """The flag as one Redis key; the session arguments are accepted and ignored."""

    def __init__(self, client: Any, key: str = REDIS_KEY, clock: Clock = SYSTEM_CLOCK) -> None:
        self.client, self.key, self.clock = client, key, clock

    def state(self, session: Session | None = None) -> PauseState | None:
        raw = self.client.get(self.key)
        if raw is None:
            return None
        doc = json.loads(raw)
        return PauseState(reason=doc["reason"], since=dt.datetime.fromisoformat(doc["since"]))

    def is_paused(self, session: Session | None = None) -> bool:
        return bool(self.client.exists(self.key))

    def pause(self, session: Session | None, reason: str) -> bool:
        doc = {"reason": reason[:MAX_REASON], "since": self.clock.now().isoformat()}
        return bool(self.client.set(self.key, json.dumps(doc), nx=True))

    def resume(self, session: Session | None = None) -> bool:
        return bool(self.client.delete(self.key))


def make_pause_flag(settings: Settings, redis_client: Any = None) -> PauseFlag:
    """Redis when configured (workers already depend on it), else the store. The CLI's resume
    must use the same choice as the workers: call this in both."""
    if settings.redis_url is None:
        return StorePauseFlag()
    if redis_client is None:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    return RedisPauseFlag(redis_client)


@dataclass
class PauseHooks:
    """The shared "sending paused" flag (workers.mail.pause), injected so tests can see it."""

    is_paused: Callable[[Session], bool]
    pause: Callable[[Session, str], bool]  # True if this call paused it (then alert once)


def default_pause_hooks() -> PauseHooks:
    """The shared "sending paused" flag."""
    return PauseHooks(is_paused=is_paused, pause=pause)


def lift_pause(session: Session) -> bool:
    """Clear the flag (the caller commits); True if sending was paused."""
    return bool(resume(session))
