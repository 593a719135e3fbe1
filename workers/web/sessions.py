"""Server-side sessions (table ``web_sessions``) and the sign-in rate limit
(table ``web_sign_in_failures``). Sessions are passed in; callers commit.

The browser's signed cookie carries only a random session id; the row keyed by its SHA-256 says
who it is and until when. Signing out ends the row, so a copy of the cookie taken before then
no longer signs anyone in; nor does one older than the session's hours, nor one left unused for
the idle timeout. A role change, a password reset or disabling an account ends every session
of that person at once (``end_all``).

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


TOUCH_EVERY = dt.timedelta(minutes=1)  # one write a minute per session, not one per request


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def live(session: Session, token: str, now: dt.datetime,
         idle: dt.timedelta | None = None) -> WebSession | None:
    """The session for ``token`` if it has not ended, expired or lain idle for ``idle``; a live
    one is marked as used now (the caller commits)."""
    row = session.get(WebSession, _key(token))
    if row is None or row.ended_at is not None or _aware(row.expires_at) <= now:
        return None
    seen = _aware(row.last_seen_at or row.created_at)
    if idle is not None and seen + idle <= now:
        row.ended_at = now
        return None
    if now - seen >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end_all(session: Session, email: str, now: dt.datetime) -> int:
    """End every live session of ``email``; how many there were."""
    result = session.execute(update(WebSession).where(
        WebSession.email == email, WebSession.ended_at.is_(None)).values(ended_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


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
