"""The module `iro worker` hands to dramatiq's CLI: it builds the broker from the settings.

This is the one module with side effects at import, on purpose: dramatiq's worker processes
import it to find their broker (``dramatiq workers.queue.worker_entry``). Nothing else imports it.
The settings folder comes from IRO_CONFIG_DIR, which `iro --config DIR worker` sets.

At import, in each worker process: it asks to be stopped like `iro worker` stops it (SIGTERM)
if `iro worker` itself dies, so it never runs on orphaned; it acts on the first SIGTERM only
(``first_sigterm_only``); and it removes the runtime folders of this host's processes that were
killed (workers.host.runtime_dir).
"""

from __future__ import annotations

import multiprocessing
import signal
from types import FrameType

import dramatiq

from workers.cli.context import default_config_dir
from workers.config.settings import load_settings
from workers.host.parent_death import die_with_parent
from workers.host.runtime_dir import sweep
from workers.queue import actors
from workers.queue.broker import make_broker
from workers.queue.time_budget import TimeBudget


class CloseLibreOffice(dramatiq.Middleware):
    """Close this process's LibreOffice converters and remove its runtime folder when its worker
    stops: dramatiq's worker processes end with ``os._exit``, so atexit handlers never run.

    Before the worker threads are joined: a thread waiting for a converter is answered at once
    (its letter goes back to the queue) instead of holding the stop past `docker stop`'s 10 s.
    """

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from workers.mailout.documents import close_pdf

        close_pdf(grace=3.0, for_good=True)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from workers.mailout.documents import close_pdf

        close_pdf()  # and the process's runtime folder


def first_sigterm_only() -> None:
    """dramatiq's worker process kills itself at a second SIGTERM, skipping every clean-up
    (LibreOffice, the runtime folder). A second one is seldom anyone's decision: systemd's
    KillMode=mixed signals every process of the group while dramatiq's main process passes its
    own on, and Linux sends the parent-death signal again as each thread of a dying parent
    exits. So the first SIGTERM stops the process gracefully (bounded: SHUTDOWN_TIMEOUT_MS) and
    later ones change nothing; SIGKILL is there to kill at once."""
    dramatiqs = signal.getsignal(signal.SIGTERM)
    if not callable(dramatiqs):
        return

    def first_only(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
        dramatiqs(signum, frame)

    signal.signal(signal.SIGTERM, first_only)


parent = multiprocessing.parent_process()
if parent is not None and parent.pid is not None:
    first_sigterm_only()
    die_with_parent(parent.pid)
settings = load_settings(default_config_dir())
sweep(settings.runtime_dir)
broker = make_broker(settings)
broker.add_middleware(TimeBudget())
broker.add_middleware(CloseLibreOffice())
dramatiq.set_broker(broker)
actors.declare(broker)
actors.use(lambda: actors.build_dispatcher(settings))
