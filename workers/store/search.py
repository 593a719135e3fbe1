"""A search box's condition on reference columns, the same on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, func, or_


def escape_like(text: str) -> str:
    """``text`` for a LIKE pattern, its own % and _ matched literally (escape character \\)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str, *columns: Any) -> ColumnElement[bool]:
    """Any of ``columns`` holds ``text``, whatever its case, its % and _ taken literally
    (references are upper case; upper() on both sides, as SQLite's LIKE folds ASCII only)."""
    pattern = f"%{escape_like(text.upper())}%"
    return or_(false(), *(func.upper(c).like(pattern, escape="\\") for c in columns))
