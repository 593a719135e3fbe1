"""Business support, returns after the poll (issue 16 §3): the unmatched inbox messages (paged,
sorted and filtered in SQL, issue 18 §1; a "dealt with" button on those still waiting that
brings the officer back to the list as they had it), returns waiting for their sender to be
confirmed, a posted return checked against the paper before it is recorded, and undoing one
recorded in error.

Each calls the service the CLI calls (workers.returns.unmatched, .changes, .service) with the
signed-in user's email as the audit actor. A refusal comes back as a message, nothing changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from workers.errors import BadInputError
from workers.store.returns_models import UnmatchedMessage
from workers.web import confirm
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.errorpages import Id
from workers.web.pages import flash, render
from workers.web.security import require

router = APIRouter(prefix="/support")
Support = Annotated[User, Depends(require("business_support"))]
UNMATCHED = "/support/returns/unmatched"


@router.get("/returns/unmatched")
def unmatched_page(request: Request, user: Support) -> Response:
    """The messages left for a person, filtered, sorted and paged by the database."""
    from dataclasses import replace

    from workers.returns.changes import to_confirm
    from workers.returns.unmatched import REASONS, SHOWS, SORTS, Wanted, listed
    from workers.web.listing import Page, read_listing

    ctx = web_context(request)
    listing = read_listing(request.query_params, sorts=SORTS, default_sort="received",
                           choices={"show": list(SHOWS), "reason": list(REASONS)},
                           dates=("from", "to"), texts=("q",))
    wanted = Wanted(show=listing.get("show") or "waiting", reason=listing.get("reason"),
                    first=listing.day("from"), last=listing.day("to"), search=listing.get("q"))
    with ctx.sessions() as session:
        def fetch() -> tuple[list[UnmatchedMessage], int]:
            return listed(session, wanted, sort=listing.sort, descending=listing.descending,
                          offset=listing.offset, limit=listing.size)
        rows, total = fetch()
        if not rows and total:  # the last one on a last page was dealt with: the page before
            listing = replace(listing, page=-(-total // listing.size))
            rows, total = fetch()
        waiting = to_confirm(session)
    return render(request, "support/unmatched.html", page=Page(rows, total, listing),
                  listing=listing, wanted=wanted, reasons=REASONS, shows=SHOWS,
                  waiting=waiting, back=UNMATCHED + listing.query(),
                  filtered=bool(set(listing.filters) - {"show"}))


@router.post("/returns/unmatched/{item_id}/dealt-with")
def dealt_with(request: Request, item_id: Id, user: Support,
               note: Annotated[str, Form()] = "",
               back: Annotated[str, Form()] = UNMATCHED) -> Response:
    from workers.returns.unmatched import dealt_with as mark

    ctx = web_context(request)
    target = _local(back)  # the list as the officer had it filtered
    try:
        with ctx.sessions() as session:
            mark(session, item_id, now=ctx.clock.now(), actor=user.email, note=note)
            session.commit()
    except BadInputError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(target, status_code=303)
    flash(request, f"Message {item_id} marked dealt with.")
    return RedirectResponse(target, status_code=303)


@router.post("/returns/{code}/confirm-sender")
def confirm_sender(request: Request, code: str, user: Support,
                   back: Annotated[str, Form()] = UNMATCHED) -> Response:
    from workers.returns.changes import confirm_sender as confirm_it

    ctx = web_context(request)
    target = _local(back)
    try:
        with ctx.sessions() as session:
            facts = confirm_it(session, code, now=ctx.clock.now(), actor=user.email)
            session.commit()
    except BadInputError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(target, status_code=303)
    flash(request, f"The return of form {facts.code} is confirmed as {facts.participant_ref}'s.")
    return RedirectResponse(target, status_code=303)


@router.post("/returns/{code}/undo")
def undo(request: Request, code: str, user: Support, reason: Annotated[str, Form()] = "",
         back: Annotated[str, Form()] = UNMATCHED,
         confirmed: Annotated[str, Form()] = "") -> Response:
    from workers.returns.changes import facts as facts_of
    from workers.returns.changes import undo as undo_return

    ctx = web_context(request)
    target = _local(back)
    try:
        if not reason.strip():
            raise BadInputError("Say why the return is undone (e.g. wrong code keyed); nothing "
                                "was changed.")
        with ctx.sessions() as session:
            if not confirm.is_confirmed(confirmed):
                facts = facts_of(session, code)[2]
                return confirm.ask(
                    request, question=f"Undo the return of form {facts.code}?",
                    detail=f"Review {facts.review_ref} (child {facts.child_initials}), "
                           f"participant {facts.participant_ref}, "
                           f"role {facts.role.replace('_', ' ')}.\n"
                           "The form will count as not returned, and its reminders still "
                           "ahead will be planned again.",
                    yes="Yes, undo this return", back=target,
                    fields=[("reason", reason), ("back", target)], final=False)
            done = undo_return(session, code, reason=reason, now=ctx.clock.now(),
                               actor=user.email)
            session.commit()
    except BadInputError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(target, status_code=303)
    again = f"; {done.reminders} reminders planned again" if done.reminders else ""
    flash(request, f"The return of form {done.facts.code} was undone{again}.")
    return RedirectResponse(target, status_code=303)


def check_page(request: Request, review_ref: str, code: str, day: dt.date) -> Response:
    """Step one of recording a posted return: what to check against the paper, and the
    confirm button (with the scan, if any, chosen here)."""
    from workers.returns.changes import facts as facts_of
    from workers.returns.scans import MAX_SCAN_BYTES

    with web_context(request).sessions() as session:
        facts = facts_of(session, code)[2]
    return render(request, "support/return_check.html", facts=facts, review_ref=review_ref,
                  received_on=day, max_scan_mb=MAX_SCAN_BYTES // 1024 // 1024)


def _local(path: str) -> str:
    """Only a page of this site to go back to (never another site's address)."""
    local = path.startswith("/support/") and "//" not in path and "\\" not in path
    return path if local and path.isprintable() else UNMATCHED
