"""A child process that must not outlive its parent asks Linux to signal it when the parent dies.

``prctl(PR_SET_PDEATHSIG)``: dramatiq's worker processes (when their `iro worker` is killed
outright, they stop as if it had sent SIGTERM, closing their LibreOffice) and the benchmarks'
children (killed by `timeout` or SIGKILL, a benchmark takes its workers with it). It survives
``exec``. Linux only; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> bool:
    """Have ``sig`` sent to this process when ``parent`` (its parent's pid) dies; if it already
    has, send it now. Safe in ``subprocess.Popen(preexec_fn=...)``: no locks, no allocation to
    speak of. False where the system cannot do it."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None)  # this process's own symbols, libc's among them: no search
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # it died before the request was made
        os.kill(os.getpid(), sig)
    return True
