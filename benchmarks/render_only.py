"""The render-only side of benchmarks/pipeline.py: the same letters, the same number of processes.

docx: a pool of P processes renders the invitations with the cached engine.
pdf: P processes, each with its own warm LibreOffice (``PdfConverter``, as each worker process has
one), render every invitation and convert it to PDF.
mailout: P processes run ``workers.mailout.compose.letter_message`` — all of a mail-out letter's
document work, the pack converted by the process's own warm LibreOffice — on rows loaded
beforehand. All are warmed up before the clock starts.

Every child dies with the benchmark, however it ends (``workers.host.parent_death``): killed by
`timeout` or SIGKILL, it takes its LibreOffice with it rather than run on.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from proc_cpu import cpu, group, split_office

from workers.host.parent_death import die_with_parent

_contexts: list[Any] = []  # set before forking: the children inherit them


def _chunks(n: int, processes: int) -> list[tuple[int, int]]:
    step = max(1, -(-n // (processes * 8)))
    return [(i, min(i + step, n)) for i in range(0, n, step)]


def _render_chunk(args: tuple[Path, tuple[int, int]]) -> int:
    from workers.documents.engine import shared_engine

    templates, (start, end) = args
    engine = shared_engine(templates)
    for ctx in _contexts[start:end]:
        engine.render("invitation", ctx)
    return end - start


def docx(ctxs: list[dict[str, Any]], processes: int, templates: Path) -> float:
    """Letters a second rendered to .docx."""
    global _contexts
    _contexts = ctxs
    with mp.get_context("fork").Pool(processes, initializer=die_with_parent,
                                     initargs=(os.getpid(), signal.SIGKILL)) as pool:
        pool.map(_render_chunk, [(templates, (0, 1))] * processes * 2, chunksize=1)  # compile
        started = time.perf_counter()
        done = sum(pool.map(_render_chunk, [(templates, c) for c in _chunks(len(ctxs), processes)],
                            chunksize=1))
        elapsed = time.perf_counter() - started
    return done / elapsed


class Work(Protocol):
    """One process's share of the work: warm up, render a slice of the letters, close."""

    def warm(self) -> None: ...
    def render(self, start: int, end: int) -> None: ...
    def close(self) -> None: ...


class InvitationPdf:
    def __init__(self, templates: Path, soffice: str, timeout: float, runtime_dir: Path) -> None:
        from workers.documents.engine import shared_engine
        from workers.documents.pdf import PdfConverter
        from workers.host.runtime_dir import process_dir

        self.engine = shared_engine(templates)
        self.converter = PdfConverter(soffice, timeout, folder=process_dir(runtime_dir))

    def warm(self) -> None:  # start LibreOffice, compile the template
        for ctx in _contexts[:2]:
            self.converter.convert(self.engine.render("invitation", ctx), "warm-up")

    def render(self, start: int, end: int) -> None:
        for ctx in _contexts[start:end]:
            self.converter.convert(self.engine.render("invitation", ctx), "invitation")

    def close(self) -> None:
        from workers.host.runtime_dir import remove_process_dirs

        self.converter.close()
        remove_process_dirs()  # a forked child ends with os._exit: atexit would not run


class MailoutLetter:
    """``_contexts`` holds (dispatch, review, child, participant) rows, detached and loaded."""

    def __init__(self, config: Path) -> None:
        from workers.mailout.documents import load_config

        self.cfg = load_config(config)

    def warm(self) -> None:
        self.render(0, 2)

    def render(self, start: int, end: int) -> None:
        from workers.mailout.compose import letter_message

        for dispatch, review, child, person in _contexts[start:end]:
            letter_message(self.cfg, dispatch, review, child, person, reply_to=None)

    def close(self) -> None:
        from workers.mailout.documents import close_pdf

        close_pdf()  # a forked child ends with os._exit: atexit would not run


def stop_on(*signums: int) -> None:
    """These signals (SIGTERM from a parent that died, or from `timeout`) end this process
    through its ``finally`` blocks, which close LibreOffice, instead of at once; a second one (a
    dying parent sends one as each of its threads exits) does not cut them short."""

    def stop(signum: int, frame: object) -> None:
        for each in signums:
            signal.signal(each, lambda *_: None)
        sys.exit(128 + signum)

    for signum in signums:
        signal.signal(signum, stop)


def _office_process(make: Callable[[], Work], tasks: Any, results: Any, go: Any,
                    finish: Any, parent: int) -> None:
    stop_on(signal.SIGTERM)
    die_with_parent(parent)
    work = make()
    try:
        work.warm()
        results.put(0)
        go.wait()
        done = 0
        while (bounds := tasks.get()) is not None:
            work.render(*bounds)
            done += bounds[1] - bounds[0]
        results.put(done)
        finish.wait(60)  # LibreOffice stays up until its CPU has been read
    finally:
        work.close()


def with_office(items: list[Any], processes: int, make: Callable[[], Work],
                timeout: float) -> tuple[float, dict[str, float]]:
    """Letters a second over P processes that each keep a warm LibreOffice, and CPU ms a letter
    (Python, LibreOffice)."""
    global _contexts
    _contexts = items
    fork = mp.get_context("fork")
    tasks, results, go, finish = fork.Queue(), fork.Queue(), fork.Event(), fork.Event()
    for chunk in _chunks(len(items), processes):
        tasks.put(chunk)
    for _ in range(processes):
        tasks.put(None)
    procs = [fork.Process(target=_office_process,
                          args=(make, tasks, results, go, finish, os.getpid()))
             for _ in range(processes)]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            results.get(timeout=timeout)  # each warm
        python, office = split_office([pid for p in procs for pid in group(p.pid or 0)])
        before = (cpu(python), cpu(office))
        started = time.perf_counter()
        go.set()
        done = sum(results.get(timeout=timeout * len(items)) for _ in procs)
        elapsed = time.perf_counter() - started
        used = {"render processes": cpu(python) - before[0], "LibreOffice": cpu(office) - before[1]}
    finally:
        finish.set()
        for p in procs:
            p.join(60)
            if p.is_alive():  # stuck: take its LibreOffice too, which would outlive it
                for pid in reversed(group(p.pid or 0)):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
    return done / elapsed, {name: 1000 * s / done for name, s in used.items()}
