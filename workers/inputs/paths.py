"""Every file path built from data stays inside its folder.

References are checked at import (``inputs.refs``), but rows written before that check, or by
another door, may still hold ``..`` or ``/``: the path is checked again where it is made.
"""

from __future__ import annotations

from pathlib import Path

from workers.errors import BadInputError


def inside(folder: Path, *parts: str) -> Path:
    """``folder / parts…``; refused if it resolves outside ``folder`` (``..``, ``/x``, links)."""
    base = Path(folder).resolve()
    bad = any(not p or "\x00" in p for p in parts)  # realpath raises on NUL: check first
    target = base if bad else base.joinpath(*parts).resolve()
    if bad or not target.is_relative_to(base) or target == base:
        raise BadInputError(
            f"a file name built from a reference would leave {folder}; "
            "check the references of this record (letters, digits, '-', '_', '.')"
        )
    return Path(folder).joinpath(*parts)
