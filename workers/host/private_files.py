"""Files that hold children's records are written for this account's eyes only.

Print batches and their manifests, outbox messages, returned forms, previews, reports and the
documents LibreOffice converts are written 0600 and the folders made for them 0700, whatever the
umask: on a shared machine another account must not read a child's letter. A folder that already
exists keeps its mode (an engineer may have given it to a group on purpose); a file written here
is always 0600, even one that existed with another mode.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_private_dir(path: Path) -> Path:
    """``path`` and any missing parents, each made 0700; folders that exist are left as they are."""
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        # mkdir's mode only loses bits to the umask, so it is never wider than 0700
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
    return path


def open_private(path: Path, mode: str = "wb", **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing (truncated), created 0600; an existing file is made 0600 too."""
    if not mode.startswith("w"):
        raise ValueError(f"open_private writes: mode {mode!r} must start with 'w'")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, 0600."""
    with open_private(path, "wb") as fh:
        fh.write(data)
