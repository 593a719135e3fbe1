"""Form codes a dry run printed, kept so the real mail-out prints the same ones (issue 16 §3).

A printed preview is checked, sometimes posted by hand: a code on it that the mail-out then
replaced would never match a return. The dry run reserves each new code against its letter's
key; the mail-out takes the reservation, and drops it once the letter's row carries the code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workers.store.returns_models import CodeReservation


def reserved(session: Session, keys: Iterable[str]) -> dict[str, str]:
    wanted = list(keys)
    if not wanted:
        return {}
    rows = session.execute(select(CodeReservation.letter_key, CodeReservation.code)
                           .where(CodeReservation.letter_key.in_(wanted)))
    return {key: code for key, code in rows}


def reserve(session: Session, codes: Mapping[str, str | None], *, now: dt.datetime) -> None:
    """Keep the codes (letter key → code) not reserved yet; the caller commits."""
    have = reserved(session, codes)
    session.add_all(CodeReservation(letter_key=key, code=code, reserved_at=now)
                    for key, code in codes.items() if code and key not in have)


def release(session: Session, keys: Iterable[str]) -> None:
    """The letters' rows now carry their codes (the caller commits with them)."""
    wanted = list(keys)
    if wanted:
        session.execute(delete(CodeReservation).where(CodeReservation.letter_key.in_(wanted)))
