"""The render-only side of benchmarks/pipeline.py: the same letters, the same number of processes.

docx: a pool of P processes renders the invitations with the cached engine.
pdf: P processes, each with its own warm LibreOffice (``PdfConverter``, as each worker process has
one), render every invitation and convert it to PDF. Both are warmed up before the clock starts.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

from proc_cpu import cpu, group, split_office

_contexts: list[dict[str, Any]] = []  # set before forking: the children inherit them


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
    with mp.get_context("fork").Pool(processes) as pool:
        pool.map(_render_chunk, [(templates, (0, 1))] * processes * 2, chunksize=1)  # compile
        started = time.perf_counter()
        done = sum(pool.map(_render_chunk, [(templates, c) for c in _chunks(len(ctxs), processes)],
                            chunksize=1))
        elapsed = time.perf_counter() - started
    return done / elapsed


def _pdf_process(templates: Path, soffice: str, timeout: float, tasks: Any, results: Any,
                 go: Any, finish: Any) -> None:
    from workers.documents.engine import shared_engine
    from workers.documents.pdf import PdfConverter

    engine = shared_engine(templates)
    with PdfConverter(soffice, timeout) as converter:
        for ctx in _contexts[:2]:  # start LibreOffice, compile the template
            converter.convert(engine.render("invitation", ctx), "warm-up")
        results.put(0)
        go.wait()
        done = 0
        while (bounds := tasks.get()) is not None:
            for ctx in _contexts[bounds[0]:bounds[1]]:
                converter.convert(engine.render("invitation", ctx), "invitation")
            done += bounds[1] - bounds[0]
        results.put(done)
        finish.wait(60)  # LibreOffice stays up until its CPU has been read


def pdf(ctxs: list[dict[str, Any]], processes: int, templates: Path, soffice: str,
        timeout: float) -> tuple[float, dict[str, float]]:
    """Letters a second rendered and converted to PDF, and CPU ms a letter (Python, LibreOffice)."""
    global _contexts
    _contexts = ctxs
    fork = mp.get_context("fork")
    tasks, results, go, finish = fork.Queue(), fork.Queue(), fork.Event(), fork.Event()
    for chunk in _chunks(len(ctxs), processes):
        tasks.put(chunk)
    for _ in range(processes):
        tasks.put(None)
    procs = [fork.Process(target=_pdf_process,
                          args=(templates, soffice, timeout, tasks, results, go, finish))
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
        done = sum(results.get(timeout=timeout * len(ctxs)) for _ in procs)
        elapsed = time.perf_counter() - started
        used = {"render processes": cpu(python) - before[0], "LibreOffice": cpu(office) - before[1]}
    finally:
        finish.set()
        for p in procs:
            p.join(60)
            if p.is_alive():
                p.terminate()
    return done / elapsed, {name: 1000 * s / done for name, s in used.items()}
