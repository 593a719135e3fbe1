"""The store's declarative base: named constraints, UTC timestamps, created/updated columns."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime,
    Dialect,
    MetaData,
    TypeDecorator,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from workers.core.clock import wall_now

# Named constraints, so later migrations can drop or alter them (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp on every backend, stored as UTC.

    SQLite has no timezone type: without this it hands back naive datetimes, and comparing them with
    an aware clock's ``now()`` raises. A naive value written here is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware one (UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UtcDateTime()}


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=wall_now, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=wall_now, onupdate=wall_now, server_default=func.now()
    )
