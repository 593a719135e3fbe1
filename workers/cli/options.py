"""What several commands read from their options the same way: dates, formats, IROs.

Each error names the option as the person typed it, so the message says what to change.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from workers.core.date_range import in_range
from workers.errors import BadInputError

if TYPE_CHECKING:
    from workers.config.directory import Directory


# Working days a command may count in one go: about 40 years.
MAX_WORKING_DAYS = 10_000


def parse_date(text: str, name: str) -> dt.date:
    """An ISO date from the command line, or a BadInputError naming the option or argument."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadInputError(f"{name}: expected a date like 2025-12-19, got {text!r}") from None
    return in_range(day, name)


def parse_int(text: str, name: str, low: int, high: int) -> int:
    """A whole number typed with ASCII digits, ``low``..``high``, or a BadInputError.

    ``int()`` also reads Arabic-Indic and other Unicode digits, which nobody means to type."""
    value = text.strip()
    body = value[1:] if value[:1] in "+-" else value
    if not (body.isascii() and body.isdigit()):
        raise BadInputError(f"{name}: expected a whole number written with 0-9, got {text!r}")
    number = int(value) if len(body) <= 18 else high + 1  # no 4300-digit int() parsing
    if not low <= number <= high:
        raise BadInputError(f"{name}: {number} is out of range; give {low} to {high}")
    return number


def check_output(path: Path, name: str = "-o") -> Path:
    """A file to write: its folder must exist (a typo must not make folders), and it is not one."""
    if path.is_dir():
        raise BadInputError(f"{name} {path}: is a folder; give a file name inside it")
    if not path.parent.is_dir():
        raise BadInputError(
            f"{name} {path}: the folder {path.parent} does not exist; create it first"
        )
    return path


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
