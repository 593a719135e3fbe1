"""Periodic jobs: enqueue due dispatches, reconcile what the queue lost, and hooks for later jobs.

Each job runs at most once per time slot (``period`` seconds) across every scheduler: a slot is
claimed by a conditional update of a ``service_state`` row, so two schedulers (a second machine,
a restarted one) never run the same slot twice. The built-in jobs are also safe on their own:
every state change is a conditional UPDATE, and messages are enqueued only after the commit.

Other issues add jobs (deadline scans, reminders, inbox poll) with ``register_job``.

The loop outlives what it depends on: a tick that meets the database or Redis down (a restart,
a failover, SQLite's ``database is locked``) is told once and then once a minute
(workers.queue.outage), and the loop tries again after a back-off of at most a tick; a job that
fails
for its own reasons is logged with its traceback once, then a line a minute. Slots are claimed
per job and jobs are idempotent for their slot, so whatever an outage interrupted is done by the
next tick that wins the slot.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workers.core.clock import SYSTEM_CLOCK, Clock, london_date
from workers.queue.loops import record_run
from workers.queue.outage import DATABASE, REDIS, dependency_of, outage, report
from workers.store.models import Dispatch, ServiceState

log = logging.getLogger(__name__)

BATCH = 1000  # rows per statement, so a huge backlog never builds one giant transaction
SLOT_PREFIX = "scheduler.slot."

_T = TypeVar("_T")
Enqueue = Callable[[list[int]], int]
Holding = Callable[[list[int]], set[int]]  # which ids the queue still holds a message for


def _nothing_known(ids: list[int]) -> set[int]:
    return set()


@dataclass(frozen=True)
class JobContext:
    sessions: sessionmaker[Session]
    enqueue: Enqueue  # sends dispatch ids to the workers; call only after committing
    now: dt.datetime  # the tick's instant, from ``clock``: every job of a tick sees the same one
    reconcile_after: float  # seconds a queued dispatch may wait before we assume it was lost
    lease: float  # seconds a claim holds (workers.queue.dispatching.lease_seconds)
    paused: bool  # sending is paused after an authentication failure
    holding: Holding = _nothing_known  # workers.queue.ledger: what the queue has not lost
    # With a ledger that tells a held message from a lost one, a queued dispatch whose message is
    # not held counts as lost after this many seconds rather than reconcile_after (None).
    lost_after: float | None = None
    clock: Clock = SYSTEM_CLOCK  # for jobs that hand the time on (a mail-out run, a notice)
    # The reconciler's re-sends, ahead of any backlog (workers.queue.actors' urgent queue); None:
    # enqueue.
    enqueue_urgent: Enqueue | None = None
    # Which held messages a live worker has taken (workers.queue.ledger.in_hands): one it has had
    # for ``stuck_after`` seconds without claiming its dispatch was forgotten, and goes again.
    in_hands: Holding = _nothing_known
    stuck_after: float | None = None

    @property
    def today(self) -> dt.date:
        """The tick's date in London."""
        return london_date(self.now)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[JobContext], int]  # returns how many things it did, for the summary
    period: float | None = None  # seconds; None → every scheduler tick


_JOBS: dict[str, Job] = {}


def register_job(job: Job) -> None:
    """Add (or replace) a periodic job. Jobs must be idempotent for their slot."""
    _JOBS[job.name] = job


def registered_jobs() -> list[Job]:
    return list(_JOBS.values())


# -- the built-in jobs -------------------------------------------------------------------------


def enqueue_due(ctx: JobContext) -> int:
    """pending and due → queued (conditional), then enqueue the ids this scheduler moved."""
    if ctx.paused:
        return 0  # they stay pending; `iro dispatches resume` lifts the pause
    total = 0
    while True:
        with ctx.sessions() as session:
            ids = session.scalars(
                select(Dispatch.id)
                .where(Dispatch.state == "pending", Dispatch.channel == "email",
                       Dispatch.due_at <= ctx.now)
                .order_by(Dispatch.due_at, Dispatch.id)
                .limit(BATCH)
            ).all()
            if not ids:
                return total
            moved = _move(session, ids, ("pending",), ctx.now, state="queued")
            session.commit()
        total += ctx.enqueue(moved)  # after the commit: a crash here leaves them for reconcile
        if len(ids) < BATCH:
            return total


def reconcile(ctx: JobContext) -> int:
    """Re-enqueue what the queue lost, every candidate in one pass (page by page).

    Candidates: ``queued`` and due — its message may have gone with a flushed Redis — for longer
    than ``lost_after`` where the ledger can tell (``reconcile_after`` where it cannot);
    ``sending`` past its lease — its worker may have died mid-send (the actor asks the transport
    before sending again). A queued candidate whose message the queue still holds
    (``ctx.holding``, workers.queue.ledger) is left alone: a backlog waiting under a rate limit is
    not lost, and re-enqueueing it would pile up copies. A ``sending`` one is sent again even so:
    its message sits in the dead worker's hands or at the back of a long queue, and the copy
    goes on the urgent queue (``ctx.enqueue_urgent``), like every re-send, so it goes within the
    minute; the claim turns the other copy away. A queued one held for ``stuck_after`` by a live
    worker that never claimed it (a consumer that reconnected after a Redis restart forgets what
    it had fetched) goes again too. Touching ``updated_at`` makes each re-enqueue happen once per
    cutoff, whichever scheduler wins.
    """
    if ctx.paused:
        return 0
    cutoff = ctx.now - dt.timedelta(seconds=ctx.reconcile_after)
    lost_after = ctx.reconcile_after if ctx.lost_after is None else min(ctx.lost_after,
                                                                        ctx.reconcile_after)
    lost_cutoff = ctx.now - dt.timedelta(seconds=lost_after)
    lease_cutoff = ctx.now - dt.timedelta(seconds=ctx.lease)
    lost_queued = (
        (Dispatch.state == "queued") & (Dispatch.updated_at <= lost_cutoff)
        & (Dispatch.due_at <= lost_cutoff)
    )
    lost_sending = (
        (Dispatch.state == "sending") & (Dispatch.claimed_at < lease_cutoff)
        & (Dispatch.updated_at <= cutoff)
    )
    total = 0
    passes = [(lost_queued, "queued"), (lost_sending, "sending")]
    if ctx.stuck_after is not None:
        stuck_cutoff = ctx.now - dt.timedelta(seconds=ctx.stuck_after)
        passes.append((
            (Dispatch.state == "queued") & (Dispatch.updated_at <= stuck_cutoff)
            & (Dispatch.due_at <= stuck_cutoff), "stuck"))
    for condition, state in passes:
        after = 0
        while True:  # a flushed Redis can lose more than one page; all of it goes back now
            with ctx.sessions() as session:
                candidates = list(session.scalars(
                    select(Dispatch.id).where(condition, Dispatch.id > after)
                    .order_by(Dispatch.id).limit(BATCH)))
                if not candidates:
                    break
                after = candidates[-1]
                held = ctx.holding(candidates) if state != "sending" else set()
                if state == "stuck":  # held, but by a worker that forgot it
                    held -= ctx.in_hands(candidates)
                ids = [i for i in candidates if i not in held]
                moved = _touch(session, ids, condition, ctx.now) if ids else []
                session.commit()
            if moved:
                log.warning("reconciler: re-enqueued %d %s dispatches", len(moved), state)
                total += (ctx.enqueue_urgent or ctx.enqueue)(moved)
            if len(candidates) < BATCH:
                break
    return total


def _move(session: Session, ids: Iterable[int], from_states: tuple[str, ...],
          now: dt.datetime, *, state: str) -> list[int]:
    result = session.execute(
        update(Dispatch)
        .where(Dispatch.id.in_(list(ids)), Dispatch.state.in_(from_states))
        .values(state=state, updated_at=now)
        .returning(Dispatch.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all())


def _touch(session: Session, ids: Iterable[int], condition: object, now: dt.datetime) -> list[int]:
    result = session.execute(
        update(Dispatch)
        .where(Dispatch.id.in_(list(ids)))
        .where(condition)  # type: ignore[arg-type]
        .values(updated_at=now)
        .returning(Dispatch.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all())


register_job(Job("enqueue_due", enqueue_due))
register_job(Job("reconcile", reconcile))


# -- slots and ticks ---------------------------------------------------------------------------


def claim_slot(session: Session, job: str, slot: int, now: dt.datetime) -> bool:
    """True if this caller won ``slot`` for ``job`` (compared as zero-padded text)."""
    name, value = SLOT_PREFIX + job, f"{slot:015d}"
    won = session.execute(
        update(ServiceState)
        .where(ServiceState.name == name, ServiceState.value < value)
        .values(value=value, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if won:
        session.commit()
        return True
    try:
        session.add(ServiceState(name=name, value=value, updated_at=now))
        session.commit()
        return True
    except IntegrityError:  # the row exists: someone else has this slot (or a later one)
        session.rollback()
        return False


@dataclass
class Scheduler:
    sessions: sessionmaker[Session]
    enqueue: Enqueue
    tick_seconds: float = 60.0
    reconcile_after: float = 30.0
    lease: float = 30.0
    is_paused: Callable[[Session], bool] = field(default=lambda _session: False)
    clock: Clock = SYSTEM_CLOCK
    holding: Holding = _nothing_known
    lost_after: float | None = None  # see JobContext
    enqueue_urgent: Enqueue | None = None  # see JobContext
    in_hands: Holding = _nothing_known  # see JobContext
    stuck_after: float | None = None  # see JobContext

    def context(self) -> JobContext:
        now = self.clock.now()
        with self.sessions() as session:
            paused = self.is_paused(session)
        urgent = self.enqueue_urgent
        return JobContext(self.sessions, _answering(self.enqueue), now, self.reconcile_after,
                          self.lease, paused, _answering(self.holding), self.lost_after, self.clock,
                          _answering(urgent) if urgent is not None else None,
                          _answering(self.in_hands), self.stuck_after)

    def tick(self, *, jobs: Iterable[Job] | None = None) -> dict[str, int]:
        """Run every job whose slot this scheduler wins; returns what each did."""
        ctx = self.context()
        done: dict[str, int] = {}
        failing: set[str | None] = set()
        for job in jobs if jobs is not None else registered_jobs():
            period = job.period or self.tick_seconds
            slot = int(ctx.now.timestamp() // period)
            with self.sessions() as session:
                if not claim_slot(session, job.name, slot, ctx.now):
                    continue
            what = f"scheduler job {job.name}"
            try:
                done[job.name] = self._run(job, ctx)
            except Exception as exc:  # one failing job must not stop the others
                report(exc, what)  # the next slot retries
                failing.add(dependency_of(exc))
            else:
                outage(what).recovered()
        if DATABASE not in failing:
            outage(DATABASE).recovered()  # it answered: every slot is claimed in it
        return done

    def run_now(self, names: Iterable[str]) -> dict[str, int]:
        """Run the named jobs once, ignoring slots (``iro run --once``)."""
        ctx = self.context()
        return {name: self._run(_JOBS[name], ctx) for name in names}

    def _run(self, job: Job, ctx: JobContext) -> int:
        """Run ``job`` and note the run (workers.queue.loops), failed or not, for monitoring."""
        error: str | None = None
        try:
            return job.run(ctx)
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            with self.sessions() as session:
                record_run(session, job.name, ctx.now, error)
                session.commit()

    def run_forever(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Tick every ``tick_seconds`` until ``stop()``; nothing a tick raises ends the loop."""
        while not stop():
            started = time.monotonic()
            wait = self.tick_seconds
            try:
                done = self.tick()
            except Exception as exc:
                wait = min(wait, report(exc, "scheduler tick"))
            else:
                outage("scheduler tick").recovered()
                if any(done.values()):
                    log.info("scheduler tick: %s", done)
            _sleep_until(started + wait, stop)


def _sleep_until(deadline: float, stop: Callable[[], bool]) -> None:
    """Sleep in short steps so ``stop`` ends the loop within a second, not a tick."""
    while not stop() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))


def _answering(call: Callable[[list[int]], _T]) -> Callable[[list[int]], _T]:
    """``call`` (a use of Redis: the queue or its ledger), telling the end of a Redis outage when
    it answers. Its errors go to the job, which the tick reports."""

    def wrapped(ids: list[int]) -> _T:
        result = call(ids)
        outage(REDIS).recovered()
        return result

    return wrapped
