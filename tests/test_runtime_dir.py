"""Each process works in a private folder of its own under the runtime directory: 0700, gone at
exit, and — when the process was killed — removed by the next process to use the directory.
Files holding children's records are written 0600 and their folders made 0700."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workers.host.private_files import make_private_dir, open_private, write_private
from workers.host.runtime_dir import host, process_dir, process_start, remove_process_dirs, sweep

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def permissive_umask() -> object:
    """The loosest umask a machine might have: the modes must not come from it."""
    before = os.umask(0)
    yield
    os.umask(before)


def test_a_process_has_one_private_folder_removed_at_exit(tmp_path: Path,
                                                           permissive_umask: object) -> None:
    root = tmp_path / "var" / "run"
    mine = process_dir(root)
    assert mine == process_dir(root) and mine.parent == root
    assert mine.name == f"{host()}-{os.getpid()}-{process_start(os.getpid())}"
    assert mode(mine) == mode(root) == mode(root.parent) == 0o700
    remove_process_dirs(root)
    assert not mine.exists() and root.exists()


def _killed_process_folder(root: Path) -> Path:
    """The folder of a process that made one and was killed with SIGKILL."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from workers.host.runtime_dir import process_dir; "
         f"print(process_dir(Path({str(root)!r})), flush=True); sys.stdin.read()"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    folder = Path(child.stdout.readline().strip())
    (folder / "letter.docx").write_bytes(b"a child's letter")
    child.send_signal(signal.SIGKILL)
    child.wait()
    return folder


def test_a_killed_process_folder_goes_when_the_next_starts(tmp_path: Path) -> None:
    root = tmp_path / "run"
    dead = _killed_process_folder(root)
    assert dead.exists()
    # a live process's folder, one whose pid was given to another process since (its start
    # time differs), another machine's (a shared directory), and something not ours
    me, other = os.getpid(), os.getppid()
    live = root / f"{host()}-{other}-{process_start(other)}"
    reused = root / f"{host()}-{other}-1"
    elsewhere = root / f"another-host-{other}-1"
    unrelated = root / "README"
    for folder in (live, reused, elsewhere, unrelated):
        folder.mkdir()

    mine = process_dir(root)
    try:
        assert not dead.exists() and not reused.exists()
        assert live.exists() and elsewhere.exists() and unrelated.exists()
        assert mine.name.startswith(f"{host()}-{me}-")
        assert sweep(root) == 0  # nothing else to remove
    finally:
        remove_process_dirs(root)


def test_private_files_and_folders(tmp_path: Path, permissive_umask: object) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    folder = make_private_dir(shared / "print" / "2026")
    assert mode(shared / "print") == mode(folder) == 0o700
    assert mode(shared) == 0o755  # a folder that was there keeps its mode
    letter = folder / "letter.pdf"
    letter.write_bytes(b"old")
    os.chmod(letter, 0o644)
    write_private(letter, b"%PDF")
    assert mode(letter) == 0o600 and letter.read_bytes() == b"%PDF"
    with open_private(folder / "manifest.csv", "w", encoding="utf-8") as fh:
        fh.write("sequence\n")
    assert mode(folder / "manifest.csv") == 0o600
    with pytest.raises(ValueError):
        open_private(letter, "rb")
