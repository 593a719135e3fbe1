"""`iro run --once`: do what is due now in this process, then end, whatever fails.

The periodic jobs run once each (reminders and notices planned, mail-outs due, the inbox), the
reconciler takes back what an earlier run left queued or half-sent, and every email due now is
handed straight to the dispatcher by a few threads: no broker sits in between, so nothing waits
for a retry. A letter that must wait (the mailbox's rate, a server's back-off, a connection error)
is left ``queued`` with its time in the store, where the next run, or a running scheduler, finds
it. A letter is still claimed, sent and recorded exactly as a worker would
(workers.queue.dispatching).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from workers.errors import IroError
from workers.queue.dispatching import Dispatcher
from workers.queue.outcomes import RetryLater

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from workers.config.settings import Settings
    from workers.core.clock import Clock

log = logging.getLogger(__name__)

# Run last, in this order: the jobs before them plan what these two send.
SENDING_JOBS = ("reconcile", "enqueue_due")


def run_once(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> set[int]:
    """Run every job once, send what is due; returns the ids of the dispatches it tried."""
    from workers.mail.pause import default_pause_hooks
    from workers.queue import actors
    from workers.queue.assembly import install
    from workers.queue.outcomes import lease_seconds
    from workers.queue.scheduler import Scheduler, registered_jobs

    install()
    dispatcher = actors.build_dispatcher(settings, clock)  # a bad configuration stops us here
    due: list[int] = []

    def collect(ids: list[int]) -> int:
        due.extend(ids)
        return len(ids)

    scheduler = Scheduler(
        sessions=sessions,
        enqueue=collect,
        reconcile_after=0,  # nothing else is running: anything left queued was lost
        lease=lease_seconds(settings.scheduler.reconcile_after_seconds),
        is_paused=default_pause_hooks().is_paused,
        clock=clock,
    )
    names = [job.name for job in registered_jobs() if job.name not in SENDING_JOBS]
    for name in [*names, *SENDING_JOBS]:
        try:
            scheduler.run_now([name])
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others
            log.warning("job %s failed this run (%s); the next run tries it again",
                        name, type(exc).__name__)
    with ThreadPoolExecutor(settings.worker.threads, thread_name_prefix="iro-once") as pool:
        list(pool.map(lambda dispatch_id: _send(dispatcher, dispatch_id), due))
    return set(due)


def _send(dispatcher: Dispatcher, dispatch_id: int) -> None:
    try:
        dispatcher.process(dispatch_id)
    except RetryLater as later:
        log.info("dispatch %s left for the next run: %s", dispatch_id, later)
    except IroError as exc:
        log.warning("dispatch %s not sent this run: %s", dispatch_id, exc)
    except Exception as exc:  # noqa: BLE001 - its claim lapses and the next run takes it back
        log.warning("dispatch %s not sent this run (%s)", dispatch_id, type(exc).__name__)
