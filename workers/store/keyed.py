"""Deadlines and dispatches found by their unique key, created once (callers own the transaction).

Every planner (review write-ups, mail-outs, escalations, the scans that run them again) names its
rows by a key such as ``R-1042/record`` or ``ESC-12/stage/deputy_manager/<email>``; planning the
same thing twice must find the row, never add a second one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.store.models import Deadline, Dispatch


def deadline_by_key(session: Session, key: str) -> Deadline | None:
    return session.scalars(select(Deadline).where(Deadline.key == key)).one_or_none()


def ensure_deadline(session: Session, key: str, **values: Any) -> Deadline:
    """The deadline with ``key``, created with ``values`` if it does not exist yet."""
    existing = deadline_by_key(session, key)
    if existing is not None:
        return existing
    deadline = Deadline(key=key, **values)
    session.add(deadline)
    session.flush()
    return deadline


def ensure_dispatch(session: Session, key: str, **values: Any) -> tuple[Dispatch, bool]:
    """The dispatch with ``key`` and whether this call created it.

    The unique key is what makes a notice go once: a second planner (another scheduler, a retry)
    racing this one hits the constraint inside a savepoint and takes the row that won.
    """
    existing = session.scalars(select(Dispatch).where(Dispatch.key == key)).one_or_none()
    if existing is not None:
        return existing, False
    dispatch = Dispatch(key=key, **values)
    try:
        with session.begin_nested():
            session.add(dispatch)
    except IntegrityError:
        won = session.scalars(select(Dispatch).where(Dispatch.key == key)).one()
        return won, False
    return dispatch, True
