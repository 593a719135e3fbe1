"""Server-side sessions (table ``web_sessions``) and the sign-in rate limit
(table ``web_sign_in_failures``). Sessions are passed in; callers commit.

The browser's signed cookie carries only a random session id; the row keyed by its SHA-256 says
who it is and until when. Signing out ends the row, so a copy of the cookie taken before then
no longer signs anyone in; nor does one older than the session's hours.

Failed local sign-ins are counted per account (as typed) and per client address over a window
(OWASP Authentication Cheat Sheet: limit failed attempts per account and per source); while
either is at its limit, sign-in is refused without checking the password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from workers.store.models import SignInFailure, WebSession


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start(session: Session, email: str, roles: frozenset[str], source: str, *, hours: int,
          now: dt.datetime) -> str:
    """A new session row; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=_key(token), email=email, roles=",".join(sorted(roles)),
                           source=source, created_at=now,
                           expires_at=now + dt.timedelta(hours=hours)))
    # rows long past their end are of no use: keep the table small
    session.execute(delete(WebSession).where(
        WebSession.expires_at < now - dt.timedelta(days=1)))
    return token


def live(session: Session, token: str, now: dt.datetime) -> WebSession | None:
    """The session for ``token`` if it has neither ended nor expired."""
    row = session.get(WebSession, _key(token))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    return row


def end(session: Session, token: str, now: dt.datetime) -> bool:
    result = session.execute(update(WebSession).where(
        WebSession.id == _key(token), WebSession.ended_at.is_(None)).values(ended_at=now))
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 20  # an office shares one address: more than one person's mistakes
    window: dt.timedelta = dt.timedelta(minutes=15)


def wait_minutes(session: Session, email: str, address: str, now: dt.datetime,
                 limits: Limits) -> int | None:
    """Minutes to wait before this account or address may try again (None: it may now)."""
    since = now - limits.window
    waits = []
    for column, value, limit in ((SignInFailure.email, email, limits.per_account),
                                 (SignInFailure.address, address, limits.per_address)):
        count, first = session.execute(
            select(func.count(), func.min(SignInFailure.at))
            .where(column == value, SignInFailure.at > since)).one()
        if count >= limit and first is not None:
            if first.tzinfo is None:  # SQLite's min() gives the stored text back, naive
                first = first.replace(tzinfo=dt.UTC)
            left = first + limits.window - now
            waits.append(max(1, -(-int(left.total_seconds()) // 60)))
    return max(waits) if waits else None


def failed(session: Session, email: str, address: str, now: dt.datetime, limits: Limits) -> None:
    session.add(SignInFailure(email=email, address=address, at=now))
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - limits.window))


def succeeded(session: Session, email: str) -> None:
    """A right password clears the account's count (not the address's)."""
    session.execute(delete(SignInFailure).where(SignInFailure.email == email))
