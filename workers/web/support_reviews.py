"""Business support: upcoming reviews, a review's letters (check, send, progress), its returns.

"Send invitations" calls the same ``run_mailout`` as `iro mailout` (preflight first, all rows in
one transaction, never twice); the workers send the letters and the page polls their states.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from workers.errors import BadInputError, PreflightError, RefusedError
from workers.store.deadline_queries import has_meeting
from workers.web import queries
from workers.web.accounts import User
from workers.web.context import WebContext, web_context
from workers.web.form_dates import form_day
from workers.web.pages import flash, render
from workers.web.security import require

router = APIRouter(prefix="/support")
Support = Annotated[User, Depends(require("business_support"))]


@dataclass(frozen=True)
class Check:
    """The preflight's answer for a review not yet sent: ready (with the plan) or problems."""

    ready: bool
    summary: str
    problems: tuple[str, ...] = ()
    letters: tuple[tuple[str, str, str, str], ...] = ()  # participant ref, role, channel, docs
    return_by: dt.date | None = None


def preflight(ctx: WebContext, review_ref: str) -> Check:
    """Plan and check every letter (templates rendered to a temporary folder in this process's
    private folder under runtime_dir, then deleted)."""
    from workers.host.runtime_dir import process_dir
    from workers.mailout.service import run_mailout

    private = process_dir(ctx.settings.runtime_dir)
    with tempfile.TemporaryDirectory(prefix="check-", dir=private) as folder:
        try:
            result = run_mailout(ctx.sessions, ctx.mailout, review_ref, dry_run_dir=Path(folder))
        except PreflightError as exc:
            lines = str(exc).splitlines()
            return Check(False, lines[0], tuple(ln.strip().lstrip("- ") for ln in lines[1:]))
        except RefusedError as exc:
            return Check(False, str(exc))
    letters = tuple(
        (x.participant_ref, x.role, x.channel,
         "invitation" + (f" + {x.form.replace('_', ' ')} + return instructions" if x.form else ""))
        for x in result.plan.letters)
    skipped = tuple(f"participant {ref}: {why}" for ref, why in result.plan.skipped)
    return Check(True, f"{len(letters)} letters ready to go; forms back by "
                       f"{result.plan.return_by:%d %B %Y}", skipped, letters,
                 result.plan.return_by)


@router.get("")
def upcoming(request: Request, user: Support) -> Response:
    """Every planned review, a page at a time, filtered and sorted by the database."""
    from workers.web import review_list

    ctx = web_context(request)
    today = ctx.today()
    listing = review_list.read(request.query_params, ctx.directory)
    bounds = None
    if listing.get("mailout"):
        bounds = review_list.mailout_bounds(ctx.rules, ctx.calendar, today)
    with ctx.sessions() as session:
        page = review_list.upcoming_page(session, listing, mailout_bounds=bounds)
    return render(request, "support/upcoming.html", page=page, listing=listing, today=today,
                  iros=ctx.directory.iros, teams=ctx.directory.teams,
                  states=review_list.STATES, mailouts=review_list.MAILOUT,
                  forms=review_list.FORMS)


@router.get("/reviews/{review_ref}")
def review_page(request: Request, review_ref: str, user: Support) -> Response:
    from workers.mailout.documents import review_on
    from workers.reviews.records import review_by_ref

    ctx = web_context(request)
    with ctx.sessions() as session:
        review = review_by_ref(session, review_ref)
        child = review.child
        people = list(review.participants)
        letters = queries.letters(session, review.id)
        meets_on = review_on(review)
    progress = queries.Progress(_count(letters))
    check = preflight(ctx, review.ref) if not letters and review.status == "planned" else None
    return render(request, "support/review.html", review=review, child=child, people=people,
                  meets_on=meets_on, check=check, letters=letters, progress=progress,
                  seen=_seen(letters),
                  waiting=review.status == "planned" and not has_meeting(review))


def _seen(letters: list[queries.LetterLine]) -> str:
    """What the progress panel shows, in a few characters (the poll's ``seen``)."""
    import hashlib

    shown = ";".join(f"{x.dispatch_id}:{x.state}:{x.sent_at}" for x in letters)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def _count(letters: list[queries.LetterLine]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in letters:
        counts[line.state] = counts.get(line.state, 0) + 1
    return counts


@router.get("/reviews/{review_ref}/progress")
def progress_fragment(request: Request, review_ref: str, user: Support) -> Response:
    from workers.reviews.records import review_by_ref

    ctx = web_context(request)
    from workers.web.pages import no_news

    with ctx.sessions() as session:
        review = review_by_ref(session, review_ref)
        letters = queries.letters(session, review.id)
    seen = _seen(letters)
    return no_news(request, seen) or render(
        request, "support/_progress_poll.html", review=review, letters=letters,
        progress=queries.Progress(_count(letters)), seen=seen)


@router.get("/reviews/{review_ref}/send")
def confirm_send(request: Request, review_ref: str, user: Support) -> Response:
    from workers.reviews.records import review_by_ref

    ctx = web_context(request)
    with ctx.sessions() as session:
        review = review_by_ref(session, review_ref)
        child = review.child
        gone = queries.progress_by_review(session, [review.id]).get(review.id)
    if gone is not None and gone.total:  # sent already: nothing to confirm, no button
        check = Check(False, f"The invitations for review {review.ref} were already sent "
                             f"({gone.label}); there is nothing more to send.")
    else:
        check = preflight(ctx, review.ref)
    return render(request, "support/confirm_send.html", review=review, child=child, check=check)


@router.post("/reviews/{review_ref}/send")
def send(request: Request, review_ref: str, user: Support) -> Response:
    from workers.mailout.service import run_mailout

    ctx = web_context(request)
    result = run_mailout(ctx.sessions, ctx.mailout, review_ref, actor=user.email)
    if result.created:
        flash(request, f"Invitations for review {result.review_ref} queued: "
                       f"{len(result.plan.letters)} letters. Progress is shown below.")
    else:
        flash(request, f"Review {result.review_ref}: the invitations were already queued; "
                       "nothing was sent twice.", "warn")
    return RedirectResponse(f"/support/reviews/{result.review_ref}", status_code=303)


@router.get("/reviews/{review_ref}/returns")
def returns_page(request: Request, review_ref: str, user: Support) -> Response:
    return _returns_page(request, review_ref)


def _returns_page(request: Request, review_ref: str, status: int = 200,
                  form_error: str | None = None,
                  typed: dict[str, object] | None = None) -> Response:
    from workers.returns.report import review_returns
    from workers.returns.scans import MAX_SCAN_BYTES

    ctx = web_context(request)
    with ctx.sessions() as session:
        rows, rate = review_returns(session, review_ref)
    return render(request, "support/returns.html", status=status, form_error=form_error,
                  typed=typed or {}, review_ref=review_ref, rows=rows, rate=rate,
                  today=ctx.today(), max_scan_mb=MAX_SCAN_BYTES // 1024 // 1024)


@router.post("/reviews/{review_ref}/returns")
def record_return(request: Request, review_ref: str, user: Support, code: Annotated[str, Form()],
                  received_on: Annotated[str, Form()] = "",
                  scan: Annotated[UploadFile | None, File()] = None,
                  confirmed: Annotated[str, Form()] = "") -> Response:
    """Record a form returned by post, with its scan if one is attached (kept with the case by
    ``record_posted``; never served back by the web pages). Without ``confirmed`` the review,
    participant and role are shown first, to check against the paper (issue 16 §3)."""
    from workers.returns import service
    from workers.returns.posted import check_posted, record_posted
    from workers.returns.scans import MAX_SCAN_BYTES, check_scan
    from workers.reviews.records import review_by_ref
    from workers.web.confirm import is_confirmed
    from workers.web.support_returns import check_page

    ctx = web_context(request)
    target = f"/support/reviews/{review_ref}/returns"
    try:
        day = form_day(received_on, "Received on", ctx.today())
        upload = None
        if scan is not None and scan.filename:  # a file input left empty sends no name
            upload = (scan.filename, scan.file.read(MAX_SCAN_BYTES + 1))
            check_scan(*upload)  # a bad file is said before the check page, not after
        with ctx.sessions() as session:
            review = review_by_ref(session, review_ref)
            letter = service.dispatch_by_code(session, code)
            if letter.review_id != review.id:
                raise RefusedError(f"form {letter.reference_code} belongs to another review; "
                                   "nothing was recorded")
            check_posted(session, letter, day, ctx.today())
            if not is_confirmed(confirmed):
                return check_page(request, review.ref, code, day)
            done = record_posted(session, ctx.settings.documents_dir, letter, review,
                                 received_on=day, scan=upload, actor=user.email)
    except BadInputError as exc:  # RefusedError and NotFoundError too
        typed: dict[str, object] = {"code": code, "received_on": received_on}
        return _returns_page(request, review_ref, 409 if isinstance(exc, RefusedError) else 400,
                             str(exc) + ("" if str(exc).endswith(".") else "."), typed)
    called_off = (f"; {done.reminders_called_off} reminders called off"
                  if done.reminders_called_off else "")
    with_scan = "; the scan is kept with the case" if upload else ""
    flash(request, f"Form {done.code} recorded as returned on {day:%d %B %Y}{called_off}"
                   f"{with_scan}.")
    return RedirectResponse(target, status_code=303)
