"""The IRO manager's accounts page: every account, its role, state and live sessions; change a
role or disable an account (each ending that person's sessions at once), as `iro users`
does, audited with the manager as the actor. Only the IRO manager (directory.yaml) may use it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from workers.web import confirm
from workers.web.accounts import ROLES, User, disable_user, list_users, set_role
from workers.web.context import web_context
from workers.web.pages import flash, render
from workers.web.review_events import is_iro_manager
from workers.web.security import require

router = APIRouter(prefix="/manager/accounts")
Manager = Annotated[User, Depends(require("manager"))]
HOME = "/manager/accounts"


def _iro_manager(request: Request, user: User) -> None:
    if not is_iro_manager(web_context(request), user):
        raise HTTPException(403, "Only the IRO manager looks after the accounts.")


@router.get("")
def accounts(request: Request, user: Manager) -> Response:
    _iro_manager(request, user)
    ctx = web_context(request)
    with ctx.sessions() as session:
        rows = list_users(session, ctx.clock.now())
    return render(request, "manager/accounts.html", rows=rows, roles=ROLES)


@router.post("/role")
def change_role(request: Request, user: Manager, email: Annotated[str, Form()],
                role: Annotated[str, Form()]) -> Response:
    _iro_manager(request, user)
    ctx = web_context(request)
    with ctx.sessions() as session:
        account, ended = set_role(session, email, role, actor=user.email, clock=ctx.clock)
        session.commit()
        text = (f"{account.email} is now {role.replace('_', ' ')}; {ended} live session"
                f"{'' if ended == 1 else 's'} ended.")
    flash(request, text)
    return RedirectResponse(HOME, status_code=303)


@router.post("/disable")
def disable(request: Request, user: Manager, email: Annotated[str, Form()],
            confirmed: Annotated[str, Form()] = "") -> Response:
    _iro_manager(request, user)
    if email.strip().lower() == user.email:
        raise HTTPException(409, "You cannot disable your own account here; ask an engineer "
                                 "(`iro users disable`).")
    if not confirm.is_confirmed(confirmed):
        return confirm.ask(request, question=f"Disable the account {email}?",
                           detail="They can no longer sign in, and every session they have "
                                  "ends now. `iro users add` gives the account back.",
                           yes="Yes, disable it", back=HOME, fields=[("email", email)])
    ctx = web_context(request)
    with ctx.sessions() as session:
        account, ended = disable_user(session, email, actor=user.email, clock=ctx.clock)
        session.commit()
        text = (f"{account.email} is disabled; {ended} live session"
                f"{'' if ended == 1 else 's'} ended.")
    flash(request, text)
    return RedirectResponse(HOME, status_code=303)
