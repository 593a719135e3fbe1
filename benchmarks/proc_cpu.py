"""CPU seconds by process from Linux /proc, for benchmarks/pipeline.py.

The rates depend on whatever else the machine runs; CPU a letter by part holds on a shared machine.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
OFFICE = (b"soffice", b"oosplash", b"uno_bridge")  # LibreOffice and its UNO bridge


def cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICK


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return kids


def group(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def split_office(pids: list[int]) -> tuple[list[int], list[int]]:
    """(Python processes, LibreOffice processes) of a process group."""
    office = [p for p in pids if any(word in _cmdline(p) for word in OFFICE)]
    return [p for p in pids if p not in office], office


def postgres(database: str) -> list[int]:
    """The server processes serving this database (their title names it)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f" {database} ".encode() in cmdline.read_bytes().replace(b"\0", b" "):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids
