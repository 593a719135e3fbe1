"""The manager's quality assurance page (annual report §9.2-9.3): who is due a chairing
observation, the latest record audits, and a form to record each. The same service as
`iro qa observe` and `iro qa audit` (workers/qa/service.py), the signed-in manager as the actor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from workers.errors import BadInputError, IroError
from workers.qa.standards import RATING_TITLES, RATINGS, AuditConfig, load_audit
from workers.web.accounts import User
from workers.web.context import WebContext, web_context
from workers.web.form_dates import form_day
from workers.web.pages import flash, render
from workers.web.security import require

router = APIRouter(prefix="/manager/qa")
Manager = Annotated[User, Depends(require("manager"))]
FIELD = "s_"  # the form field of standard smart_decisions: s_smart_decisions


def _standards(ctx: WebContext) -> AuditConfig:
    return load_audit(ctx.settings.config_dir / "audit.yaml")


def _page(request: Request, status: int = 200, form_error: str | None = None,
          typed: dict[str, object] | None = None) -> Response:
    from workers.qa.due import observations, recent_audits

    ctx = web_context(request)
    today = ctx.today()
    standards = _standards(ctx)
    names = ctx.directory.iro_names()
    with ctx.sessions() as session:
        due = observations(session, names, standards.observation_months)
        audits = recent_audits(session)
    return render(request, "manager/qa.html", status=status, form_error=form_error,
                  typed=typed or {}, today=today, due=due, audits=audits, names=names,
                  months=standards.observation_months, standards=standards.standards,
                  ratings=[(r, RATING_TITLES[r]) for r in RATINGS], field=FIELD,
                  due_count=sum(1 for o in due if o.is_due(today)))


@router.get("")
def page(request: Request, user: Manager) -> Response:
    return _page(request)


@router.post("/observations")
def observe(request: Request, user: Manager, iro_email: Annotated[str, Form()],
            on: Annotated[str, Form()] = "", review_ref: Annotated[str, Form()] = "",
            note: Annotated[str, Form()] = "") -> Response:

    from workers.qa.service import record_observation

    ctx = web_context(request)
    typed: dict[str, object] = {"iro_email": iro_email, "on": on, "review_ref": review_ref,
                                "note": note, "form": "observation"}
    with ctx.sessions() as session:
        try:
            day = form_day(on, "Date", ctx.today())
            row = record_observation(session, ctx.directory, iro_email=iro_email, on=day,
                                     today=ctx.today(), by=user.email, note=note,
                                     review_ref=review_ref or None)
        except (BadInputError, ValueError) as exc:
            session.rollback()
            return _page(request, 400, _message(exc), typed)
        session.commit()
        name = ctx.directory.iro_names().get(row.iro_email, row.iro_email)
    flash(request, f"Observation of {name} on {day:%d %b %Y} recorded.")
    return RedirectResponse("/manager/qa", status_code=303)


@router.post("/audits")
async def audit(request: Request, user: Manager) -> Response:
    """One radio group per standard (``s_<key>``); a standard left unrated was not audited."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_save_audit, request, user, fields)


def _save_audit(request: Request, user: User, fields: dict[str, str]) -> Response:

    from workers.qa.service import record_audit

    ctx = web_context(request)
    ratings = {k[len(FIELD):]: v for k, v in fields.items() if k.startswith(FIELD) and v}
    review_ref, on, note = (fields.get(k, "") for k in ("review_ref", "on", "note"))
    typed: dict[str, object] = {"review_ref": review_ref, "on": on, "note": note,
                                "ratings": ratings, "form": "audit"}
    with ctx.sessions() as session:
        try:
            day = form_day(on, "Date", ctx.today())
            row = record_audit(session, _standards(ctx), review_ref=review_ref, ratings=ratings,
                               on=day, today=ctx.today(), by=user.email, note=note)
        except (BadInputError, ValueError) as exc:
            session.rollback()
            return _page(request, 400, _message(exc), typed)
        session.commit()
        rated = len(row.ratings)
    flash(request, f"Audit of {review_ref.strip()} recorded ({rated} standards rated).")
    return RedirectResponse("/manager/qa", status_code=303)


def _message(exc: Exception) -> str:
    """The service's words, less the CLI's option dashes; a bad date in the form's terms."""
    if isinstance(exc, IroError):
        return str(exc).replace("--on ", "Date ").replace("--note", "Note").replace(
            "--standard", "Standards").replace("--by", "Signed-in user")
    return "Date: expected YYYY-MM-DD"
