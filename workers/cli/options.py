"""What several commands read from their options the same way: dates, formats, IROs.

Each error names the option as the person typed it, so the message says what to change.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from workers.errors import BadInputError

if TYPE_CHECKING:
    from workers.config.directory import Directory


def parse_date(text: str, name: str) -> dt.date:
    """An ISO date from the command line, or a BadInputError naming the option or argument."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadInputError(f"{name}: expected a date like 2025-12-19, got {text!r}") from None


def optional_date(text: str | None, name: str) -> dt.date | None:
    """``parse_date`` for an option that may be left out."""
    return None if text is None else parse_date(text, name)


def check_format(value: str, formats: tuple[str, ...], name: str = "--format") -> str:
    """``value`` if it is one of ``formats``; else a BadInputError listing them."""
    if value not in formats:
        raise BadInputError(f"{name}: expected one of {', '.join(formats)}, got {value!r}")
    return value


def format_metavar(formats: tuple[str, ...]) -> str:
    return "|".join(formats)


def check_iro(directory: Directory, email: str | None, config_dir: Path) -> None:
    """Refuse an ``--iro`` that names nobody in directory.yaml (a typo would list nothing)."""
    if email is not None and directory.iro(email) is None:
        known = ", ".join(p.email for p in directory.iros)
        raise BadInputError(
            f"--iro {email}: not an IRO in {config_dir / 'directory.yaml'} (known: {known})"
        )
