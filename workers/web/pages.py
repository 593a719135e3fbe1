"""Rendering pages: one Jinja environment, autoescaped, StrictUndefined; every page gets the user,
the CSRF token and the navigation for the user's roles."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from workers.core.clock import LONDON
from workers.web.accounts import ROLE_TITLES
from workers.web.security import CSRF_FIELD, CSRF_HEADER, csrf_token, current_user

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAV = {
    "business_support": [("/support", "Upcoming reviews"), ("/support/mailouts", "Mail-outs due"),
                         ("/support/letters", "Letters"), ("/support/dispatches", "Failed"),
                         ("/support/print", "Print batch"),
                         ("/support/returns/unmatched", "Unmatched returns"),
                         ("/support/import", "Import")],
    "iro": [("/iro", "My caseload"), ("/iro/escalations", "My escalations"),
            ("/iro/midway", "Midway checks")],
    "manager": [("/manager", "Awaiting me"), ("/manager/escalations", "Escalations"),
                ("/manager/report", "Report"),
                ("/manager/qa", "Quality"), ("/manager/dates", "Correct a date")],
}


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(csrf_field=CSRF_FIELD, csrf_header=CSRF_HEADER, role_titles=ROLE_TITLES)
    env.filters["day"] = lambda d: f"{d:%a} {d.day} {d:%b %Y}" if d else ""
    env.filters["pct"] = lambda x: f"{x:.0%}" if x is not None else "n/a"
    env.filters["london"] = london_time
    return env


def london_time(t: dt.datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """Stored times are UTC; people read the council's clock (a summer 10:00 is 09:00 UTC)."""
    return t.astimezone(LONDON).strftime(fmt) if t else ""


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    user = current_user(request)
    nav = [item for role in ("business_support", "iro", "manager")
           if user and user.has(role) for item in NAV[role]]
    if user and user.has("manager") and _is_iro_manager(request, user.email):
        nav.append(("/manager/accounts", "Accounts"))
    here = request.url.path
    current = max((href for href, _ in nav if here == href or here.startswith(href + "/")),
                  key=len, default="")
    flash = request.session.pop("flash", None)
    # a form sent back with an error is drawn again holding what was typed (``typed``)
    context.setdefault("typed", {})
    context.setdefault("form_error", None)
    html = environment().get_template(name).render(
        request=request, user=user, nav=nav, current=current,
        csrf_token=csrf_token(request), flash=flash, **context)
    return HTMLResponse(html, status_code=status)


def _is_iro_manager(request: Request, email: str) -> bool:
    web = getattr(request.app.state, "web", None)
    directory = getattr(web, "directory", None)
    return directory is not None and directory.iro_manager.email.strip().lower() == email


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A one-line message shown on the next page (after a redirect)."""
    request.session["flash"] = {"message": message, "kind": kind}


def no_news(request: Request, fingerprint: str) -> Response | None:
    """204 (htmx swaps nothing) when a poll's ``seen`` is what the page shows already."""
    return Response(status_code=204) if request.query_params.get("seen") == fingerprint else None
