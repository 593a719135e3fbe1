"""A date entered wrongly, corrected on the web (issue 16 §5): the day a form came back (the
review's returns page) and the day a print batch was posted (the print batches page); an IRO
manager, who has neither page, corrects either on /manager/dates by code or batch number.

The same services as `iro correct return|posted` (workers.casework.redate), by business support
or an IRO manager, with the signed-in user as the audit actor (old and new values). A refusal is
a message on the page it came from; nothing changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from workers.errors import BadInputError
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.errorpages import Id
from workers.web.form_dates import form_day
from workers.web.pages import flash, render
from workers.web.security import require

router = APIRouter()
# the roles redate.py lets correct any return or batch (an IRO only their own review's)
Corrector = Annotated[User, Depends(require("business_support", "manager"))]
Manager = Annotated[User, Depends(require("manager"))]
LABEL = "The date"
PRINT = "/support/print"
MANAGER_PAGE = "/manager/dates"


@router.get(MANAGER_PAGE)
def manager_page(request: Request, user: Manager) -> Response:
    """The IRO manager's way to both corrections (business support's pages are not theirs)."""
    return render(request, "manager/dates.html", today=web_context(request).today())


@router.post(MANAGER_PAGE + "/return")
def manager_return_date(request: Request, user: Manager, code: Annotated[str, Form()] = "",
                        received_on: Annotated[str, Form()] = "") -> Response:
    return _return_date(request, user, code, received_on, MANAGER_PAGE)


@router.post(MANAGER_PAGE + "/posted")
def manager_posted_date(request: Request, user: Manager, batch: Annotated[str, Form()] = "",
                        posted_on: Annotated[str, Form()] = "") -> Response:
    if not (batch.strip().isascii() and batch.strip().isdigit()):
        flash(request, f"Print batch: expected its number, as the print batches list shows it, "
                       f"got {batch.strip()[:20]!r}; nothing changed.", "error")
        return RedirectResponse(MANAGER_PAGE, status_code=303)
    return _posted_date(request, user, int(batch), posted_on, MANAGER_PAGE)


@router.post("/support/returns/{code}/correct-date")
def correct_return_date(request: Request, code: str, user: Corrector,
                        received_on: Annotated[str, Form()] = "",
                        back: Annotated[str, Form()] = "") -> Response:
    """The day a recorded form came back, as `iro correct return CODE --date D`."""
    from workers.web.support_returns import _local

    return _return_date(request, user, code, received_on, _local(back))


@router.post("/support/print/{batch_id}/correct-posted")
def correct_posted_date(request: Request, batch_id: Id, user: Corrector,
                        posted_on: Annotated[str, Form()] = "") -> Response:
    """The day a print batch was posted, and its letters' sent dates, as `iro correct posted`."""
    return _posted_date(request, user, batch_id, posted_on, PRINT)


def _return_date(request: Request, user: User, code: str, typed: str, back: str) -> Response:
    from workers.casework.redate import correct_return

    done = _correct(request, user, typed, lambda s, who, new, today: correct_return(
        s, code, new, who=who, today=today, flag=LABEL))
    if done is not None:
        flash(request, f"Form {code.strip().upper()}: returned on {done[1]:%d %B %Y} "
                       f"(was {done[0]:%d %B %Y}).")
    return RedirectResponse(back, status_code=303)


def _posted_date(request: Request, user: User, batch_id: int, typed: str,
                 back: str) -> Response:
    from workers.casework.redate import correct_posted

    done = _correct(request, user, typed, lambda s, who, new, today: correct_posted(
        s, batch_id, new, who=who, today=today, flag=LABEL))
    if done is not None:
        flash(request, f"Print batch {batch_id}: posted on {done[1]:%d %B %Y} "
                       f"(was {done[0]:%d %B %Y}); its letters' sent dates follow.")
    return RedirectResponse(back, status_code=303)


def _correct(request: Request, user: User, typed: str,
             apply: Callable[..., tuple[dt.date, dt.date]]) -> tuple[dt.date, dt.date] | None:
    """One correction in one transaction: (old, new), or None with the refusal flashed."""
    from workers.casework.redate import Corrector as Who

    ctx = web_context(request)
    today = ctx.today()
    with ctx.sessions() as session:
        try:
            done = apply(session, Who(user.email.lower(), frozenset(user.roles)),
                         form_day(typed, LABEL), today)
        except BadInputError as exc:  # RefusedError, NotFoundError too
            session.rollback()
            message = " ".join(str(exc).split()).rstrip(".")
            said = "nothing changed" in message or "nothing was changed" in message
            flash(request, message + ("." if said else "; nothing changed."), "error")
            return None
        session.commit()
    return done
