"""A search box's condition on reference columns, the same on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_


def escape_like(text: str) -> str:
    """``text`` for a LIKE pattern, its own % and _ matched literally (escape character \\)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str, *columns: Any) -> ColumnElement[bool]:
    """Any of ``columns`` holds ``text``, whatever its case, its % and _ taken literally.

    ILIKE: PostgreSQL folds every letter's case; SQLite is given lower() of both sides, so a
    letter it cannot fold (ä) still finds itself. Python's own folding is not used: it differs
    from both databases' (ß is SS)."""
    pattern = f"%{escape_like(text)}%"
    return or_(false(), *(c.ilike(pattern, escape="\\") for c in columns))
