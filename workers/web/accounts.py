"""Local accounts (table ``web_users``) and who a signed-in person is.

``User`` is what every page sees: an email and the roles held. Local accounts hold one role;
an OpenID Connect sign-in may map to several. Roles: business_support, iro, manager.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.mail.addresses import is_email_address
from workers.store import audit
from workers.store.models import WebUser
from workers.web.passwords import check_password, hash_password, password_problem

ROLES = ("business_support", "iro", "manager")
ROLE_TITLES = {"business_support": "Business support", "iro": "IRO", "manager": "Manager"}


@cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so a wrong email costs the same time as a wrong
    password and sign-in does not tell which accounts exist."""
    return hash_password("not-a-real-password")


@dataclass(frozen=True)
class User:
    email: str
    roles: frozenset[str]
    source: str = "local"  # local | oidc

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def home(self) -> str:
        for role, path in (("business_support", "/support"), ("iro", "/iro"),
                           ("manager", "/manager")):
            if role in self.roles:
                return path
        return "/"


def add_user(session: Session, email: str, role: str, password: str, *,
             actor: str = "cli", clock: Clock = SYSTEM_CLOCK) -> WebUser:
    """Create (or reset the password and role of) a local account; the caller commits.

    A reset ends every session the person has at once: an old session must not keep an old
    role, nor outlive the password it was opened with."""
    email = email.strip().lower()
    if not is_email_address(email):
        raise BadInputError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise BadInputError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    problem = password_problem(password)
    if problem:
        raise BadInputError(problem)
    user = find(session, email)
    if user is None:
        user = WebUser(email=email, role=role, password_hash=hash_password(password), active=True)
        session.add(user)
        session.flush()
        audit.record(session, "web_user.created", "web_user", user.id, actor=actor, role=role)
        return user
    old_role, was_active = user.role, user.active
    user.role, user.password_hash, user.active = role, hash_password(password), True
    session.flush()
    ended = end_sessions(session, email, clock.now())
    audit.record(session, "web_user.updated", "web_user", user.id, actor=actor, role=role,
                 old_role=old_role, password_reset=True, enabled=not was_active,
                 sessions_ended=ended)
    return user


def find(session: Session, email: str) -> WebUser | None:
    return session.scalars(
        select(WebUser).where(WebUser.email == email.strip().lower())).one_or_none()


def end_sessions(session: Session, email: str, now: dt.datetime) -> int:
    from workers.web import sessions

    return sessions.end_all(session, email, now)


def disable_user(session: Session, email: str, *, actor: str = "cli",
                 clock: Clock = SYSTEM_CLOCK) -> tuple[WebUser, int]:
    """Take an account away: no more sign-ins (local or OIDC) and every session ended now.
    `iro users add` gives it back. The caller commits."""
    user = find(session, email)
    if user is None:
        raise NotFoundError(f"no account for {email.strip().lower()!r}; `iro users list` "
                            "shows the accounts")
    was_active, user.active = user.active, False
    ended = end_sessions(session, user.email, clock.now())
    audit.record(session, "web_user.disabled", "web_user", user.id, actor=actor,
                 already_disabled=not was_active, sessions_ended=ended)
    return user, ended


def set_role(session: Session, email: str, role: str, *, actor: str,
             clock: Clock = SYSTEM_CLOCK) -> tuple[WebUser, int]:
    """Give an account another role; every session it has ends at once (an old session must
    not keep the old role). The caller commits."""
    if role not in ROLES:
        raise BadInputError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    user = find(session, email)
    if user is None:
        raise NotFoundError(f"no account for {email.strip().lower()!r}")
    old, user.role = user.role, role
    ended = end_sessions(session, user.email, clock.now())
    audit.record(session, "web_user.updated", "web_user", user.id, actor=actor, role=role,
                 old_role=old, password_reset=False, enabled=False, sessions_ended=ended)
    return user, ended


@dataclass(frozen=True)
class AccountRow:
    email: str
    role: str
    active: bool
    sign_in: str  # "password", "oidc" or "password, oidc"
    live_sessions: int
    last_seen: dt.datetime | None


def list_users(session: Session, now: dt.datetime) -> list[AccountRow]:
    """Every account with its live sessions and when one was last used (one query)."""
    from sqlalchemy import and_, func

    from workers.store.models import WebSession

    live = and_(WebSession.email == WebUser.email, WebSession.ended_at.is_(None),
                WebSession.expires_at > now)
    rows = session.execute(
        select(WebUser, func.count(WebSession.id),
               func.max(func.coalesce(WebSession.last_seen_at, WebSession.created_at)))
        .outerjoin(WebSession, live).group_by(WebUser.id).order_by(WebUser.email)).all()
    out = []
    for user, count, seen in rows:
        ways = [w for w, on in (("password", user.password_hash != NO_PASSWORD),
                                ("oidc", user.oidc_subject is not None)) if on]
        if isinstance(seen, str):  # SQLite's max() over an expression gives text back
            seen = dt.datetime.fromisoformat(seen)
        if seen is not None and seen.tzinfo is None:
            seen = seen.replace(tzinfo=dt.UTC)
        out.append(AccountRow(user.email, user.role, user.active, ", ".join(ways) or "none",
                              int(count), seen))
    return out


def bind_oidc(session: Session, subject: str, email: str, roles: frozenset[str]) -> User:
    """The person behind an OIDC sign-in, found by the provider's immutable ``subject``.

    The first sign-in binds ``subject`` to the account named by the email claim (made if there
    is none); later ones find the account by ``subject`` alone, so changing the email claim at
    the provider neither moves a person to another account nor takes theirs. An account already
    bound to another subject, or disabled, is refused. The caller commits."""
    row = session.scalars(select(WebUser).where(WebUser.oidc_subject == subject)).one_or_none()
    primary = next(r for r in ROLES if r in roles)
    if row is None:
        row = find(session, email)
        if row is not None and row.oidc_subject is not None:
            raise RefusedError("this email address belongs to an account bound to another "
                               "sign-in identity; ask the IRO service manager")
        if row is None:
            row = WebUser(email=email, role=primary, password_hash=NO_PASSWORD, active=True,
                          oidc_subject=subject)
            session.add(row)
            session.flush()
            audit.record(session, "web_user.created", "web_user", row.id, actor=email,
                         role=primary, method="oidc")
        elif row.active:
            row.oidc_subject = subject
            session.flush()
            audit.record(session, "web_user.oidc_bound", "web_user", row.id, actor=email)
    if not row.active:
        raise RefusedError("this account has been disabled; ask the IRO service manager")
    row.role = primary
    return User(row.email, roles, "oidc")


NO_PASSWORD = "!"  # the hash of an account that signs in only with OIDC: matches no password


def authenticate(session: Session, email: str, password: str) -> User:
    """The user for this email and password; RefusedError (one message for every reason)."""
    wanted = email.strip().lower()
    row = session.scalars(select(WebUser).where(WebUser.email == wanted)).one_or_none()
    ok = check_password(password, row.password_hash if row else _dummy_hash())
    if row is None or not ok or not row.active:
        raise RefusedError("email or password not recognised")
    return User(row.email, frozenset({row.role}))
