"""Long actions off the request: a print batch is built by a thread of the web process while
the page shows its progress, so nobody's browser waits a minute for it (nor times out).

One job of each kind at a time in a process (a second asks while the first runs are told so);
across processes the store's claim on the letters keeps two builds apart. A job keeps only
counts, ids and a one-line message — never names — and the last one is shown until the next.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from fastapi import Request
    from fastapi.responses import Response

log = logging.getLogger(__name__)


@dataclass
class Job:
    kind: str
    started_by: str
    state: str = "running"  # running | finished | failed
    done: int = 0
    total: int = 0
    message: str = ""
    batch_id: int | None = None
    # what could not be done and why, by reference (a bulk mail-out's refused reviews)
    failures: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, done: int, total: int) -> None:
        with self.lock:
            self.done, self.total = done, total

    @property
    def fingerprint(self) -> str:
        """Changes whenever what the page shows of the job does: a poll that brings the same
        one back is answered 204, so the live region is only touched (and read out) on news."""
        return f"{self.state}-{self.done}-{self.total}-{len(self.failures)}"

    @property
    def percent(self) -> int:
        return 100 if self.state != "running" else (
            int(100 * self.done / self.total) if self.total else 0)


@dataclass
class Jobs:
    """The web process's jobs, one per kind."""

    current: dict[str, Job] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, kind: str) -> Job | None:
        return self.current.get(kind)

    def start(self, kind: str, started_by: str, work: Callable[[Job], None]) -> Job | None:
        """Run ``work(job)`` in a thread; None if a job of this kind is already running."""
        with self.lock:
            running = self.current.get(kind)
            if running is not None and running.state == "running":
                return None
            job = self.current[kind] = Job(kind, started_by)
        thread = threading.Thread(target=self._run, args=(job, work), daemon=True,
                                  name=f"iro-web-{kind}")
        thread.start()
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Job], None]) -> None:
        from workers.errors import IroError

        try:
            work(job)
            job.state = "finished"
        except IroError as exc:  # says what to do; carries references, never names
            job.state, job.message = "failed", str(exc)
        except Exception:
            log.exception("background %s failed", job.kind)
            job.state = "failed"
            job.message = "an unexpected error happened and was logged; try again"


def jobs_of(request: Request) -> Jobs:
    """The web process's jobs (made on first use)."""
    jobs = getattr(request.app.state, "jobs", None)
    if not isinstance(jobs, Jobs):
        jobs = request.app.state.jobs = Jobs()
    return jobs


def job_fragment(request: Request, job: Job | None, job_id: str, job_url: str) -> Response:
    """A job panel's poll answer (``_job_poll.html``): 204 while nothing has changed."""
    from workers.web.pages import no_news, render

    return no_news(request, job.fingerprint if job else "") or render(
        request, "_job_poll.html", job=job, job_id=job_id, job_url=job_url,
        status_template=f"support/_{job_id}_status.html",
        detail_template=f"support/_{job_id}_job.html")


def print_batch_work(ctx: object, day: dt.date, actor: str) -> Callable[[Job], None]:
    """The print batch build as a job (the same ``build_batch`` as `iro print-batch`)."""
    from workers.mailout.printing import build_batch
    from workers.web.context import WebContext

    assert isinstance(ctx, WebContext)

    def work(job: Job) -> None:
        result = build_batch(ctx.sessions, ctx.mailout, day, actor=actor, progress=job.advance)
        job.batch_id = result.batch_id
        if result.batch_id is None:
            job.message = "Nothing to print today."
        else:
            job.message = (f"Print batch {result.batch_id}: {result.letters} letters, "
                           f"{result.pages} pages. Download it below.")

    return work
