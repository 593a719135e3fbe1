"""Sign-in and sign-out: local accounts (the embedded default) and OpenID Connect (production).

Every sign-in, failed sign-in and sign-out is audited by email (never the password). A failed
sign-in says the same thing whatever was wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from workers.errors import RefusedError
from workers.store import audit
from workers.web.accounts import User, authenticate, bind_oidc
from workers.web.context import web_context
from workers.web.oidc import Flow, Identity, OidcClient
from workers.web.pages import render
from workers.web.security import check_csrf, current_user, sign_in, sign_out

router = APIRouter()
FLOW_KEY = "oidc_flow"


def _oidc(request: Request) -> OidcClient | None:
    client = request.app.state.oidc
    return client if isinstance(client, OidcClient) else None


def _audit(request: Request, action: str, email: str, **details: object) -> None:
    ctx = web_context(request)
    with ctx.sessions() as session:
        audit.record(session, action, "web_user", None, actor=email or "anonymous", **details)
        session.commit()


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    user = current_user(request)
    if user is not None:
        return RedirectResponse(user.home, status_code=303)
    return render(request, "sign_in.html", error=None, email="",
                  oidc=_oidc(request) is not None)


@router.post("/sign-in", dependencies=[Depends(check_csrf)])
def sign_in_submit(request: Request, email: Annotated[str, Form()] = "",
                   password: Annotated[str, Form()] = "") -> Response:
    from workers.web import sessions

    ctx = web_context(request)
    typed = email.strip().lower()[:320]
    address = (request.client.host if request.client else "")[:64] or "unknown"
    web = ctx.settings.web
    limits = sessions.Limits(web.sign_in_failures_per_account, web.sign_in_failures_per_address,
                             dt.timedelta(minutes=web.sign_in_window_minutes))
    now = ctx.clock.now()
    with ctx.sessions() as session:
        wait = sessions.wait_minutes(session, typed, address, now, limits)
        if wait is not None:  # refused without looking at the password
            audit.record(session, "web.sign_in_throttled", "web_user", None, actor=typed,
                         method="local", client_ip=address, wait_minutes=wait)
            session.commit()
            return render(request, "sign_in.html", status=429, email=email,
                          oidc=_oidc(request) is not None,
                          error=f"Too many failed sign-ins for this account or from this "
                                f"address. Wait {wait} minute{'s' if wait != 1 else ''} and "
                                "try again.")
        try:
            user = authenticate(session, email, password)
        except RefusedError as exc:
            sessions.failed(session, typed, address, now, limits)
            audit.record(session, "web.sign_in_refused", "web_user", None,
                         actor=typed or "anonymous", method="local", client_ip=address)
            session.commit()
            return render(request, "sign_in.html", status=401, error=str(exc), email=email,
                          oidc=_oidc(request) is not None)
        sessions.succeeded(session, user.email)
        session.commit()
    return _start(request, user)


def _start(request: Request, user: User) -> Response:
    sign_in(request, user)
    _audit(request, "web.signed_in", user.email, method=user.source, roles=sorted(user.roles))
    return RedirectResponse(user.home, status_code=303)


@router.post("/sign-out", dependencies=[Depends(check_csrf)])
def sign_out_submit(request: Request) -> Response:
    user = current_user(request)
    sign_out(request)
    if user is not None:
        _audit(request, "web.signed_out", user.email)
    return RedirectResponse("/sign-in", status_code=303)


def _bind(request: Request, who: Identity) -> User:
    """The account bound to this identity (RefusedError: disabled, or bound to another)."""
    ctx = web_context(request)
    with ctx.sessions() as session:
        user = bind_oidc(session, who.subject, who.email, who.roles)
        session.commit()
    return user


def _redirect_uri(request: Request, client: OidcClient) -> str:
    return client.settings.redirect_url or str(request.url_for("oidc_callback"))


@router.get("/auth/oidc/start")
async def oidc_start(request: Request) -> Response:
    client = _oidc(request)
    if client is None:
        return RedirectResponse("/sign-in", status_code=303)
    flow = Flow.new()
    request.session[FLOW_KEY] = {"state": flow.state, "nonce": flow.nonce,
                                 "verifier": flow.verifier}
    return RedirectResponse(client.authorize_url(flow, _redirect_uri(request, client)),
                            status_code=303)


@router.get("/auth/oidc/callback", name="oidc_callback")
def oidc_callback(request: Request, code: str = "", state: str = "",
                        error: str = "") -> Response:
    client = _oidc(request)
    saved = request.session.pop(FLOW_KEY, None)
    if client is None or not isinstance(saved, dict):
        return RedirectResponse("/sign-in", status_code=303)
    problem, email = None, ""
    if error or not code:
        problem = "the sign-in provider did not sign you in; start again"
    else:
        try:
            flow = Flow(str(saved["state"]), str(saved["nonce"]), str(saved["verifier"]))
            who = client.finish(flow, code=code, state=state,
                                redirect_uri=_redirect_uri(request, client))
            email = who.email
            user = _bind(request, who)
        except RefusedError as exc:
            problem = str(exc)
    if problem is not None:
        _audit(request, "web.sign_in_refused", email, method="oidc", reason=problem)
        return render(request, "sign_in.html", status=401, error=problem, email="", oidc=True)
    return _start(request, user)
