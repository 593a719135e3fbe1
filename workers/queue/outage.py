"""A failing database or Redis: say so once, back off, carry on.

Every loop that depends on the store or Redis — the scheduler's ticks and jobs, the worker
threads' actor, the embedded sender of `iro run` and `iro web --with-worker` — meets the same
outages (a PostgreSQL restart or failover, a Redis restart, SQLite's ``database is locked``) and
must ride them out instead of dying. Before this, a 20-second PostgreSQL stop wrote 1,440
tracebacks: one per letter per attempt. Now each process tells a failing dependency once when
it begins, one line a minute while it lasts, and once when it ends, and suggests how long to wait
before trying again (``Outage.delay``).

``dependency_of`` decides what counts as an outage: errors that say the service is unreachable,
restarting, read-only after a failover, or locked — not a bug, which keeps its traceback.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DATABASE = "database"
REDIS = "Redis"
TELL_EVERY_SECONDS = 60.0
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 10.0  # a letter waits at most this long after the dependency is back
READ_ONLY_SQLSTATE = "25006"  # a failover's old primary, or a replica not yet promoted


def dependency_of(exc: BaseException) -> str | None:
    """``DATABASE`` or ``REDIS`` if ``exc`` says that service is unavailable for now, else None."""
    import redis
    from dramatiq.errors import BrokerConnectionError
    from sqlalchemy import exc as sa

    from workers.errors import DatabaseUnavailableError, QueueUnavailableError

    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError
                  | redis.exceptions.ReadOnlyError | BrokerConnectionError
                  | QueueUnavailableError):
        return REDIS
    if isinstance(exc, sa.OperationalError | sa.InterfaceError | sa.DisconnectionError
                  | DatabaseUnavailableError):
        return DATABASE  # refused, restarting, shutting down, connection lost, database locked
    if isinstance(exc, sa.DBAPIError) and (
        exc.connection_invalidated
        or getattr(exc.orig, "sqlstate", None) == READ_ONLY_SQLSTATE
    ):
        return DATABASE
    return None


def summary(exc: BaseException) -> str:
    """The error's type and first line, for a log line: no traceback, no statement text."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0][:200]}" if lines else type(cause).__name__


@dataclass
class Outage:
    """One failing thing as this process sees it, shared by all its threads.

    ``failed`` logs the first failure (with a traceback if asked: a bug needs one, an outage
    does not), then at most one line a minute; ``recovered`` logs the end, once. A failure within
    a minute of the last line is folded into the next minute's line, so a dependency that comes
    and goes still writes at most two lines a minute.
    """

    name: str
    logger: logging.Logger = log
    every: float = TELL_EVERY_SECONDS
    monotonic: Callable[[], float] = time.monotonic
    since: float | None = None  # when this outage began; None while all is well
    failures: int = 0
    told: bool = False  # this outage's first line was logged
    last_line: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def failed(self, exc: BaseException, *, traceback: bool = False) -> float:
        """Note one failure; returns how long to wait before trying again."""
        with self._lock:
            now = self.monotonic()
            self.failures += 1
            quiet = self.last_line is not None and now - self.last_line < self.every
            if self.since is None:
                self.since, self.failures, self.told = now, 1, not quiet
                if not quiet:
                    self.last_line = now
                    self.logger.error(
                        "%s unavailable (%s); carrying on, trying again with back-off; "
                        "told once a minute while it lasts", self.name, summary(exc),
                        exc_info=exc if traceback else None)
            elif not quiet:
                self.last_line, self.told = now, True
                self.logger.error("%s still unavailable after %.0f s (%d failures): %s",
                                  self.name, now - self.since, self.failures, summary(exc))
            return self._delay(now)

    def recovered(self) -> None:
        if self.since is None:  # the common case, without taking the lock
            return
        with self._lock:
            if self.since is None:
                return
            now = self.monotonic()
            if self.told:
                self.last_line = now
                self.logger.warning("%s available again after %.0f s (%d failures)",
                                    self.name, now - self.since, self.failures)
            self.since, self.failures, self.told = None, 0, False

    def delay(self) -> float:
        with self._lock:
            return self._delay(self.monotonic())

    def _delay(self, now: float) -> float:
        """As long as the outage has lasted so far, from 1 s up to 10 s, with jitter so the
        threads that wait do not all come back at the same instant."""
        lasted = 0.0 if self.since is None else now - self.since
        base = min(MAX_DELAY_SECONDS, max(FIRST_DELAY_SECONDS, lasted))
        return base * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not security


_outages: dict[str, Outage] = {}
_registry_lock = threading.Lock()


def outage(name: str) -> Outage:
    """This process's ``Outage`` for ``name`` (a dependency, or a job's own failures)."""
    with _registry_lock:
        found = _outages.get(name)
        if found is None:
            found = _outages[name] = Outage(name)
        return found


def report(exc: Exception, what: str) -> float:
    """Note ``exc`` raised by ``what`` (e.g. "scheduler job reconcile"): as an outage of its
    dependency, or as ``what``'s own failure — with its traceback once, unless it is one of our
    errors, whose message says what to do. Returns the back-off."""
    from workers.errors import IroError

    dependency = dependency_of(exc)
    if dependency is not None:
        return outage(dependency).failed(exc)
    return outage(what).failed(exc, traceback=not isinstance(exc, IroError))
