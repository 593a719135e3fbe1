"""On the review's page: the record the IRO emailed back, held until they confirm it ("This is
my record" / "Not mine — discard", issue 15 §1), and "Send the decisions" (as `iro review
distribute REF --decisions --confirm`), asked once on a confirmation page first.

Only the IRO chairing the review or the IRO manager may do either (``may_record``); the forms
carry the CSRF token as every other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from workers.errors import BadInputError
from workers.web import confirm
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.errorpages import Id
from workers.web.pages import flash
from workers.web.review_events import review_to_record
from workers.web.security import signed_in

router = APIRouter(prefix="/iro/reviews")
SignedIn = Annotated[User, Depends(signed_in)]


@router.post("/{review_ref}/record-reply/{reply_id}/{action}")
def decide_reply(request: Request, review_ref: str, reply_id: Id, action: str,
                 user: SignedIn) -> Response:
    """Confirm the held reply (then kept and read as an upload) or discard it."""
    from workers.reviews import record_replies

    if action not in ("confirm", "discard"):
        raise HTTPException(404, "No such action.")
    ctx = web_context(request)
    target = f"/iro/reviews/{review_ref}"
    with ctx.sessions() as session:
        review = review_to_record(ctx, session, review_ref, user)
        try:
            if action == "confirm":
                done = record_replies.confirm(
                    session, ctx.calendar, ctx.settings.documents_dir, review.ref,
                    actor=user.email, today=ctx.today(), now=ctx.clock.now(), reply_id=reply_id)
            else:
                done = record_replies.discard(session, review.ref, actor=user.email,
                                              now=ctx.clock.now(), reply_id=reply_id)
        except BadInputError as exc:  # NotFoundError, RefusedError too
            session.rollback()
            flash(request, str(exc), "error")
            return RedirectResponse(target, status_code=303)
        session.commit()
    done.remove_file()
    returned = done.returned
    if returned is None:
        flash(request, "The emailed file was discarded; nothing was read from it.")
    elif returned.problem:
        flash(request, f"{returned.problem}. The file is kept with the case; no decisions were "
                       "stored. Upload a corrected record below.", "error")
    else:
        flash(request, f"Your emailed record is kept with the case; {returned.decisions} "
                       "decision(s) read from it for the next review's draft.")
    return RedirectResponse(target, status_code=303)


@router.post("/{review_ref}/distribute-decisions")
def distribute_decisions(request: Request, review_ref: str, user: SignedIn,
                         confirmed: Annotated[str, Form()] = "") -> Response:
    """The decisions first, to the same list by the same rules as the record (issue 15 §2):
    the list is shown on a confirmation page; nothing is planned until the IRO says yes."""
    from workers.reviews.distribution import distribute

    ctx = web_context(request)
    target = f"/iro/reviews/{review_ref}"
    with ctx.sessions() as session:
        ref = review_to_record(ctx, session, review_ref, user).ref
    try:
        done = distribute(ctx.sessions, ctx.mailout, ref, withhold={},
                          confirm=confirm.is_confirmed(confirmed), actor=user.email,
                          decisions=True)
    except BadInputError as exc:  # no decisions yet, the preflight's problems
        flash(request, " ".join(str(exc).split()), "error")
        return RedirectResponse(target, status_code=303)
    if not done.confirmed:
        lines = [f"{c.participant_ref} ({c.role.replace('_', ' ')}): "
                 f"{'letter of what was decided' if c.child_letter else 'the decisions'} by "
                 f"{c.channel}{' — already planned' if c.key in done.existing else ''}"
                 for c in done.copies]
        lines += [f"{r}: no copy (the decisions are withheld from them)" for r in done.not_sent]
        return confirm.ask(
            request, question=f"Send review {ref}'s decisions now?",
            detail="\n".join([*lines, "Each is planned once; the record's own copies go later, "
                              "when you send the record."]),
            yes="Yes, send the decisions", back=target)
    flash(request, f"The decisions are on their way: {done.created} copies planned." if done.created
          else "Nothing new to send: every copy of the decisions was planned before.")
    return RedirectResponse(target, status_code=303)
