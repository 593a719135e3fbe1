"""A process's LibreOffice converters: a few instances, each driven by a thread of its own.

dramatiq's time limit interrupts an actor thread with an asynchronous exception wherever it is.
If that thread were driving LibreOffice's bridge, the bridge would be left out of step and every
later letter of the process would fail. So no actor thread ever touches a bridge: it puts its
document on this pool's queue and waits for the answer. Each converter thread takes the next
document, converts it with its own ``PdfConverter`` (which has its own conversion deadline,
restarts a LibreOffice that hangs or crashes, and matches every reply to its request) and hands
back the PDF. An interrupted caller only stops waiting; the conversion finishes undisturbed and
its PDF is dropped.

Waiting has a limit of its own, separate from the conversion's: ``give_up_at`` (from the message's
time limit, ``workers.queue.time_budget``). A caller that reaches it gets ``ConverterError`` —
retried
like any passing fault — and its document, if no converter had taken it yet, is never converted.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial

from workers.documents.pdf import CLOSE_GRACE_SECONDS, PdfConverter
from workers.errors import ConverterError

log = logging.getLogger(__name__)
WAIT_SLICE_SECONDS = 0.25  # a waiting caller wakes this often, so an interrupt reaches it


def stopping(name: str) -> ConverterError:
    """For a document that a stopping process will not convert (another process will)."""
    return ConverterError(f"{name}: this worker process is stopping; the document will be "
                          "converted by another")


class _Job:
    def __init__(self, docx: bytes, name: str) -> None:
        self.docx, self.name = docx, name
        self.future: Future[bytes] = Future()
        self.abandoned = False

    def give_up(self) -> None:
        """The caller stopped waiting: not started, it never will; started, it is not retried."""
        self.abandoned = True
        self.future.cancel()

    def wanted(self) -> bool:
        return not self.abandoned


class ConverterPool:
    """``convert(docx, name)`` by the first free of ``instances`` converters."""

    def __init__(self, make: Callable[[], PdfConverter], instances: int) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closing = False
        self._grace = CLOSE_GRACE_SECONDS
        self.converters = [make() for _ in range(max(1, instances))]
        self._threads = [
            threading.Thread(target=self._serve, args=(converter,), daemon=True,
                             name=f"libreoffice-{n}")
            for n, converter in enumerate(self.converters)
        ]
        for thread in self._threads:
            thread.start()

    def convert(self, docx: bytes, name: str = "document", *,
                give_up_at: float | None = None) -> bytes:
        """The PDF. Raises ``ConverterError`` when no converter answered by ``give_up_at`` (a
        ``time.monotonic()`` value; None waits for the converter's own deadlines)."""
        if self._closing:
            raise stopping(name)
        if give_up_at is not None and time.monotonic() >= give_up_at:
            raise self._late(name)
        job = _Job(docx, name)
        self._jobs.put(job)
        try:
            while give_up_at is None or time.monotonic() < give_up_at:
                slice_ = WAIT_SLICE_SECONDS if give_up_at is None else \
                    min(WAIT_SLICE_SECONDS, max(0.0, give_up_at - time.monotonic()))
                with contextlib.suppress(TimeoutError):
                    return job.future.result(timeout=slice_)
                if not any(thread.is_alive() for thread in self._threads):
                    raise ConverterError(f"{name}: this process's LibreOffice converters have "
                                         "stopped; the document will be tried again")
        except BaseException:
            job.give_up()  # interrupted (a time limit, a shutdown): the converter carries on
            raise
        job.give_up()
        raise self._late(name)

    @staticmethod
    def _late(name: str) -> ConverterError:
        return ConverterError(f"{name}: LibreOffice did not convert this document in the time a "
                              "letter is given (every converter busy, or starting); the letter "
                              "will be tried again")

    def _serve(self, converter: PdfConverter) -> None:
        try:
            try:
                converter.start()  # warm at once: the first letter should not wait for it
            except Exception as exc:  # noqa: BLE001 - it is tried again at the first document
                log.warning("LibreOffice did not start (%s); trying again at the first "
                            "document", exc)
            while (job := self._jobs.get()) is not None:
                if not job.future.set_running_or_notify_cancel():
                    continue  # its caller gave up before it was taken
                try:
                    # a closing pool never starts a fresh LibreOffice to try again: it would
                    # outlive the stop and hold the process's folder (the letter goes back)
                    pdf = converter.convert(job.docx, job.name, keep_going=partial(
                        self._still_wanted, job))
                except Exception as exc:  # noqa: BLE001 - the caller raises it
                    job.future.set_exception(exc)
                else:
                    job.future.set_result(pdf)
        finally:
            converter.close(self._grace)

    def _still_wanted(self, job: _Job) -> bool:
        return job.wanted() and not self._closing

    def close(self, grace: float | None = None) -> None:
        """Refuse new documents, fail those not yet taken, let conversions in hand finish, and
        stop every LibreOffice — within about ``grace`` seconds, however they behave."""
        grace = CLOSE_GRACE_SECONDS if grace is None else grace
        self._closing, self._grace = True, grace
        with contextlib.suppress(queue.Empty):
            while True:
                job = self._jobs.get_nowait()
                if job is not None and job.future.set_running_or_notify_cancel():
                    job.future.set_exception(stopping(job.name))
        for _ in self._threads:
            self._jobs.put(None)
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for converter, thread in zip(self.converters, self._threads, strict=True):
            if thread.is_alive():  # a conversion that will not end: its thread then closes it
                converter.kill()
        for thread in self._threads:
            thread.join(2.0)
