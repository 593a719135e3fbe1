"""Who is signed in, what they may do, and the CSRF token: enforced on the server, per route.

The session lives in a signed cookie (Starlette's SessionMiddleware, itsdangerous): HttpOnly,
SameSite=Lax, Secure unless served on localhost. It carries the user's email and roles and a
random CSRF token; every POST must send that token back (form field ``csrf_token`` or header
``X-CSRF-Token`` for htmx) or it is refused before anything happens.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request

from workers.web.accounts import ROLES, User

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):  # noqa: N818 - a signal to the handler that redirects
    """No one is signed in: the handler sends the browser to the sign-in page."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def current_user(request: Request) -> User | None:
    data = request.session.get("user")
    if not isinstance(data, dict):
        return None
    email, roles = data.get("email"), data.get("roles")
    if not isinstance(email, str) or not isinstance(roles, list):
        return None
    return User(email, frozenset(r for r in roles if r in ROLES), str(data.get("source", "")))


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token: no fixation across sign-in)."""
    request.session.clear()
    request.session["user"] = {"email": user.email, "roles": sorted(user.roles),
                               "source": user.source}
    csrf_token(request)


def sign_out(request: Request) -> None:
    request.session.clear()


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose token does not match the session's (403, nothing done)."""
    if request.method != "POST":
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(403, "The form has expired or did not come from this site. "
                                 "Go back, reload the page and try again.")


def require(role: str) -> Callable[[Request], Awaitable[User]]:
    """A dependency: the signed-in user, who must hold ``role`` (else sign-in, or 403)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise SignInRequired()
        if not user.has(role):
            raise HTTPException(403, "Your account does not have access to this page.")
        await check_csrf(request)
        return user

    return dependency


async def signed_in(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise SignInRequired()
    await check_csrf(request)
    return user
