"""Rough edges of the `iro` command found in review, each through the real console script:
usage errors, help text, and bad input that must exit 2 with a message saying what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

IRO = Path(sys.executable).parent / "iro"


def run_iro(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IRO_")}
    clean.update(env, COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [str(IRO), *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
    )


def test_unknown_command_and_option_are_usage_errors_not_unexpected(tmp_path: Path) -> None:
    # typer >= 0.20 raises its own copy of click's exceptions; they were reported as
    # "unexpected error: UsageError" with exit 1.
    for args, said in (
        (("reviews",), "No such command 'reviews'"),
        (("deadlines", "--bogus"), "No such option: --bogus"),
    ):
        result = run_iro(tmp_path, *args)
        assert result.returncode == 2, result.stderr
        assert said in result.stderr
        assert "unexpected error" not in result.stderr
