"""Spreadsheet formula injection: a CSV cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
CR is run as a formula when a person opens the file in Excel or Calc. As OWASP's "CSV Injection"
page advises, such a cell is written with a leading apostrophe, which the spreadsheet shows as
text. Every CSV the service writes goes through ``safe_cell``/``safe_row``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A string that a spreadsheet would read as a formula gets a leading ``'``; numbers, dates
    and everything else are left as they are (a negative number is data, not a formula)."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in row.items()}


def safe_values(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]
