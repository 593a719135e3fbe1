"""Local accounts (table ``web_users``) and who a signed-in person is.

``User`` is what every page sees: an email and the roles held. Local accounts hold one role;
an OpenID Connect sign-in may map to several. Roles: business_support, iro, manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import BadInputError, RefusedError
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
             actor: str = "cli") -> WebUser:
    """Create (or reset the password and role of) a local account; the caller commits."""
    email = email.strip().lower()
    if not is_email_address(email):
        raise BadInputError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise BadInputError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    problem = password_problem(password)
    if problem:
        raise BadInputError(problem)
    user = session.scalars(select(WebUser).where(WebUser.email == email)).one_or_none()
    created = user is None
    if user is None:
        user = WebUser(email=email, role=role, password_hash=hash_password(password), active=True)
        session.add(user)
    else:
        user.role, user.password_hash, user.active = role, hash_password(password), True
    session.flush()
    audit.record(session, "web_user.created" if created else "web_user.updated", "web_user",
                 user.id, actor=actor, role=role)
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The user for this email and password; RefusedError (one message for every reason)."""
    wanted = email.strip().lower()
    row = session.scalars(select(WebUser).where(WebUser.email == wanted)).one_or_none()
    ok = check_password(password, row.password_hash if row else _dummy_hash())
    if row is None or not ok or not row.active:
        raise RefusedError("email or password not recognised")
    return User(row.email, frozenset({row.role}))
