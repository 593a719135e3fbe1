"""A date entered wrongly, corrected on the web (issue 16 §5): the day a form came back (the
review's returns page) and the day a print batch was posted (the print batches page).

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
from workers.web.pages import flash
from workers.web.security import require

router = APIRouter(prefix="/support")
# the roles redate.py lets correct any return or batch (an IRO only their own review's)
Corrector = Annotated[User, Depends(require("business_support", "manager"))]
LABEL = "The date"
PRINT = "/support/print"


@router.post("/returns/{code}/correct-date")
def correct_return_date(request: Request, code: str, user: Corrector,
                        received_on: Annotated[str, Form()] = "",
                        back: Annotated[str, Form()] = "") -> Response:
    """The day a recorded form came back, as `iro correct return CODE --date D`."""
    from workers.casework.redate import correct_return
    from workers.web.support_returns import _local

    target = _local(back)
    done = _correct(request, user, received_on, lambda s, who, new, today: correct_return(
        s, code, new, who=who, today=today, flag=LABEL))
    if done is not None:
        flash(request, f"Form {code.strip().upper()}: returned on {done[1]:%d %B %Y} "
                       f"(was {done[0]:%d %B %Y}).")
    return RedirectResponse(target, status_code=303)


@router.post("/print/{batch_id}/correct-posted")
def correct_posted_date(request: Request, batch_id: Id, user: Corrector,
                        posted_on: Annotated[str, Form()] = "") -> Response:
    """The day a print batch was posted, and its letters' sent dates, as `iro correct posted`."""
    from workers.casework.redate import correct_posted

    done = _correct(request, user, posted_on, lambda s, who, new, today: correct_posted(
        s, batch_id, new, who=who, today=today, flag=LABEL))
    if done is not None:
        flash(request, f"Print batch {batch_id}: posted on {done[1]:%d %B %Y} "
                       f"(was {done[0]:%d %B %Y}); its letters' sent dates follow.")
    return RedirectResponse(PRINT, status_code=303)


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
