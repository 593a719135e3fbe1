"""How long the message in hand may wait for a shared resource, from its dramatiq time limit.

dramatiq's TimeLimit interrupts an actor thread with an asynchronous exception wherever it is,
one that a blocking call only sees when it returns. A wait that can run long — for a free
LibreOffice converter (``workers.documents.pdf_pool``) — therefore ends on its own first: a
message may spend ``WAIT_SHARE`` of its time limit before it stops waiting, leaving the rest to
send the letter and record it. The letter is then retried (``ConverterError``), not interrupted.
Outside a dramatiq message (a command, a print batch) nothing limits a wait but the resource's
own deadlines.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy

WAIT_SHARE = 0.6
_local = threading.local()


def wait_until() -> float | None:
    """The ``time.monotonic()`` by which this thread's waits must end; None: no limit."""
    until: float | None = getattr(_local, "until", None)
    return until


class TimeBudget(dramatiq.Middleware):
    """Sets ``wait_until`` for the thread that processes each message."""

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        limit = message.options.get("time_limit") or \
            broker.get_actor(message.actor_name).options.get("time_limit")
        _local.until = time.monotonic() + limit / 1000 * WAIT_SHARE if limit else None

    def after_process_message(self, broker: dramatiq.Broker, message: MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None
                              ) -> None:
        _local.until = None

    after_skip_message = after_process_message
