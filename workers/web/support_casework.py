"""Business support, casework on one letter from the failed letters page: resend a failed or
bounced letter to the corrected contact (or by post), or cancel it with a reason.

Each calls the service the CLI calls (workers.casework.letters) with the signed-in user's email
as the audit actor; a refusal (the contact still fails the checks, the letter already went) comes
back as a message on the page, nothing changed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from workers.errors import BadInputError
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.pages import flash
from workers.web.security import require

router = APIRouter(prefix="/support")
Support = Annotated[User, Depends(require("business_support"))]
BACK = "/support/dispatches"


@router.post("/dispatches/{dispatch_id}/resend")
def resend(request: Request, dispatch_id: int, user: Support,
           by: Annotated[str, Form()] = "") -> Response:
    from workers.casework.letters import resend as resend_letter

    ctx = web_context(request)
    try:
        with ctx.sessions() as session:
            new = resend_letter(session, dispatch_id, channel=by or None,
                                allowed_domains=ctx.mailout.allowed_domains,
                                now=ctx.clock.now(), actor=user.email)
            session.commit()
            new_id, channel = new.id, new.channel
    except BadInputError as exc:  # PreflightError, RefusedError, NotFoundError too
        flash(request, " ".join(str(exc).split()), "error")
        return RedirectResponse(BACK, status_code=303)
    flash(request, f"Letter {dispatch_id} resent by {channel} as letter {new_id}.")
    return RedirectResponse(BACK, status_code=303)


@router.post("/dispatches/{dispatch_id}/cancel")
def cancel(request: Request, dispatch_id: int, user: Support,
           reason: Annotated[str, Form()] = "") -> Response:
    from workers.casework.letters import cancel as cancel_letter

    ctx = web_context(request)
    try:
        with ctx.sessions() as session:
            done = cancel_letter(session, dispatch_id, reason=reason, now=ctx.clock.now(),
                                 actor=user.email)
            session.commit()
    except BadInputError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(BACK, status_code=303)
    extra = f", with its {len(done.reminders)} reminders" if done.reminders else ""
    flash(request, f"Letter {dispatch_id} cancelled{extra}.")
    return RedirectResponse(BACK, status_code=303)


@router.post("/reviews/{review_ref}/move")
def move(request: Request, review_ref: str, user: Support,
         date: Annotated[str, Form()] = "", time: Annotated[str, Form()] = "",
         venue: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "") -> Response:
    """The meeting moved: the same service as `iro review move` (workers.casework.meetings)."""
    import datetime as dt

    from workers.casework.meetings import move_review

    ctx = web_context(request)
    back = f"/support/reviews/{review_ref}"
    try:
        day = dt.date.fromisoformat(date) if date.strip() else None
        at = dt.time.fromisoformat(time) if time.strip() else None
    except ValueError:
        flash(request, "Date and time: expected a date and a time like 14:00", "error")
        return RedirectResponse(back, status_code=303)
    try:
        with ctx.sessions() as session:
            done = move_review(session, ctx.mailout, review_ref, date=day, time=at,
                               venue=venue if venue.strip() else None, today=ctx.today(),
                               now=ctx.clock.now(), actor=user.email, confirm=confirm == "yes")
            session.commit()
    except BadInputError as exc:
        flash(request, " ".join(str(exc).split()), "error")
        return RedirectResponse(back, status_code=303)
    flash(request, "Meeting moved: " + ("; ".join(done.lines()) or "no letters to change") + ".")
    return RedirectResponse(back, status_code=303)


@router.post("/reviews/{review_ref}/cancel")
def cancel_review(request: Request, review_ref: str, user: Support,
                  reason: Annotated[str, Form()] = "") -> Response:
    from workers.casework.meetings import cancel_review as cancel_it

    ctx = web_context(request)
    back = f"/support/reviews/{review_ref}"
    try:
        with ctx.sessions() as session:
            done = cancel_it(session, ctx.mailout, review_ref, reason=reason,
                             now=ctx.clock.now(), actor=user.email)
            session.commit()
    except BadInputError as exc:
        flash(request, " ".join(str(exc).split()), "error")
        return RedirectResponse(back, status_code=303)
    flash(request, "Review cancelled: " + ("; ".join(done.lines()) or "no letters had gone")
          + ".")
    return RedirectResponse(back, status_code=303)


@router.post("/reviews/{review_ref}/participants/{participant_ref}/withdraw")
def withdraw(request: Request, review_ref: str, participant_ref: str, user: Support,
             reason: Annotated[str, Form()] = "") -> Response:
    from workers.casework.corrections import withdraw_participant

    ctx = web_context(request)
    back = f"/support/reviews/{review_ref}"
    try:
        with ctx.sessions() as session:
            done = withdraw_participant(session, review_ref, participant_ref, reason=reason,
                                        today=ctx.today(), now=ctx.clock.now(),
                                        actor=user.email)
            session.commit()
    except BadInputError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(back, status_code=303)
    flash(request, "; ".join(str(w) for w in done) + ".")
    return RedirectResponse(back, status_code=303)


@router.post("/reviews/{review_ref}/correct")
def correct(request: Request, review_ref: str, user: Support,
            participant: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
            address: Annotated[str, Form()] = "", postcode: Annotated[str, Form()] = "",
            channel: Annotated[str, Form()] = "") -> Response:
    """A contact corrected: the same service as `iro participants correct`; blank fields stay."""
    from workers.casework.corrections import correct_contact

    ctx = web_context(request)
    back = f"/support/reviews/{review_ref}"
    changes: dict[str, object] = {}
    if email.strip():
        changes["email"] = email.strip()
    if address.strip():
        changes["address"] = "\n".join(ln.strip() for ln in address.replace("|", "\n")
                                       .splitlines() if ln.strip())
    if postcode.strip():
        changes["postcode"] = " ".join(postcode.upper().split())
    if channel.strip():
        changes["channel"] = channel.strip()
    try:
        with ctx.sessions() as session:
            done = correct_contact(session, review_ref, participant, changes,
                                   allowed_domains=ctx.mailout.allowed_domains,
                                   now=ctx.clock.now(), actor=user.email)
            session.commit()
    except BadInputError as exc:
        flash(request, " ".join(str(exc).split()), "error")
        return RedirectResponse(back, status_code=303)
    flash(request, "; ".join(str(r) for r in done) + "." if done else "Nothing changed.")
    return RedirectResponse(back, status_code=303)
