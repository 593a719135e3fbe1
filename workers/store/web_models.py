"""The web pages' tables: local accounts, signed-in sessions, failed sign-ins (workers/web)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from workers.core.clock import wall_now
from workers.store.base import Base, Timestamped


class WebUser(Timestamped, Base):
    """A local account for `iro web` (the embedded default; production signs in with OIDC).

    The password is kept only as a scrypt hash (``workers.web.passwords``).
    """

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # business_support | iro | manager
    password_hash: Mapped[str] = mapped_column(String(300))  # "!" for sign-in with OIDC only
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # "<issuer> <oid or sub>": the identity provider's immutable id for the person, bound at their
    # first OIDC sign-in; later sign-ins are matched by it, never by the (changeable) email claim
    oidc_subject: Mapped[str | None] = mapped_column(String(400), unique=True)


class WebSession(Base):
    """A signed-in browser of `iro web`. The cookie carries a random id; this row (keyed by the id's
    SHA-256, so a copy of the table signs no one in) must be live for the cookie to count, so
    signing out or expiry ends the session on the server and a copied cookie stops working."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's id
    email: Mapped[str] = mapped_column(String(320), index=True)
    roles: Mapped[str] = mapped_column(String(100))  # comma-separated
    source: Mapped[str] = mapped_column(String(10))  # local | oidc
    created_at: Mapped[dt.datetime] = mapped_column(default=wall_now)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    last_seen_at: Mapped[dt.datetime | None]  # for the idle timeout (None: not since sign-in)


class SignInFailure(Base):
    """A failed local sign-in, counted per account and per address to slow password guessing."""

    __tablename__ = "web_sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)  # as typed, lower case
    address: Mapped[str] = mapped_column(String(64), index=True)  # the client's IP address
    at: Mapped[dt.datetime] = mapped_column(default=wall_now, index=True)
