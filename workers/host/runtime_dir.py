"""One private working folder per process under the runtime directory (``runtime_dir``).

LibreOffice's profiles and the letters it converts live here, never in the system's temporary
folder, so a killed process cannot leave a child's letter where nobody will clear it up. Each
folder is 0700 and named ``<host>-<pid>-<start>``: it is removed when its process exits, and when
the process was killed and could not, by the next process that uses the same runtime directory.
The start time (from /proc) tells a dead process's folder from that of a live process that was
given the same pid; the host name keeps machines or containers that share the directory from
judging each other's processes.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import threading
from pathlib import Path

from workers.host.private_files import make_private_dir

_NAME = re.compile(r"^(?P<host>[A-Za-z0-9._-]+)-(?P<pid>\d+)-(?P<start>\d+)$")
_lock = threading.Lock()
_mine: dict[Path, tuple[int, Path]] = {}  # runtime directory → (owning pid, its folder)
_exit_hooked: set[int] = set()  # pids that registered the atexit clean-up (a fork inherits it)


def host() -> str:
    """This machine's name as folder names carry it (letters, digits, dots, dashes)."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "host"


def process_start(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks after boot (/proc/<pid>/stat field 22); None when
    there is no such process, or only its corpse (a zombie not yet reaped), or no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may itself hold spaces or parentheses
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _alive(pid: int, start: int) -> bool:
    now = process_start(pid)
    if now is not None:
        return now == start
    if Path("/proc/self/stat").exists():
        return False  # /proc works and has no such process
    try:  # no /proc: only the pid can be asked about
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(root: Path) -> int:
    """Remove the folders under ``root`` of this host's processes that have ended; how many."""
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return 0
    removed = 0
    for entry in entries:
        found = _NAME.match(entry.name)
        if found is None or found["host"] != host() or entry.is_symlink() or not entry.is_dir():
            continue
        if _alive(int(found["pid"]), int(found["start"])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


def process_dir(root: Path) -> Path:
    """This process's folder under ``root``, made 0700 on first use (a fork gets its own).

    Making it first removes the folders of this host's processes that have died; the folder
    itself goes at exit (``remove_process_dirs``, which atexit runs; processes that end with
    ``os._exit`` call it themselves).
    """
    root = root.absolute()
    pid = os.getpid()
    with _lock:
        held = _mine.get(root)
        if held is not None and held[0] == pid and held[1].is_dir():
            return held[1]
        make_private_dir(root)
        sweep(root)
        folder = root / f"{host()}-{pid}-{process_start(pid) or 0}"
        folder.mkdir(mode=0o700, exist_ok=True)
        _mine[root] = (pid, folder)
        if pid not in _exit_hooked:
            _exit_hooked.add(pid)
            atexit.register(remove_process_dirs)
        return folder


def remove_process_dirs(root: Path | None = None) -> None:
    """Remove this process's folders (under ``root``, or all): never a parent's, which a fork
    inherited the record of."""
    pid = os.getpid()
    only = None if root is None else root.absolute()
    with _lock:
        for held, (owner, folder) in list(_mine.items()):
            if owner == pid and only in (None, held):
                shutil.rmtree(folder, ignore_errors=True)
                del _mine[held]
