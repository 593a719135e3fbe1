"""Business support: the mail-outs due, checked and sent in one go.

The page lists the planned reviews whose invitations' day has come (or passed) and that have
sent nothing, a page at a time from the database (the upcoming list's own query), and runs the
preflight for each review on the page. The officer ticks some, or asks for every one the filters
match; one confirmation, then a background job (``workers.web.bulk_mailout``) runs the same
``run_mailout`` as `iro mailout` for each — preflight again first, so a review that fails it is
listed with its reasons and nothing of it is sent, and one already sent is never sent twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from workers.errors import BadInputError
from workers.web import confirm, review_list
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.listing import Listing, read_listing
from workers.web.pages import flash, render
from workers.web.security import require

if TYPE_CHECKING:
    from collections.abc import Hashable, Mapping

    from workers.config.directory import Directory
    from workers.web.context import WebContext
    from workers.web.preflight_cache import PreflightCache
    from workers.web.support_reviews import Check

router = APIRouter(prefix="/support/mailouts")
Support = Annotated[User, Depends(require("business_support"))]
SORTS = ("meeting", "review", "child", "iro")
WHEN = {"due": "Due (its day has come)", "late": "Late (its day has passed)"}
PAGE_SIZE = 25  # each row's preflight renders its letters: a page is what one look can take
JOB = "mailout"
FILTERS = ("q", "iro", "team", "mailout")


def read(params: Mapping[str, str], directory: Directory) -> Listing:
    listing = read_listing(
        params, sorts=SORTS, default_sort="meeting", default_size=PAGE_SIZE,
        choices={"iro": [p.email.lower() for p in directory.iros],
                 "team": [t.key for t in directory.teams], "mailout": list(WHEN)},
        texts=("q",))
    # never more than the due ones: the page's whole point, whatever the query string says
    return replace(listing, filters={**listing.filters,
                                     "mailout": listing.get("mailout") or "due"})


@router.get("")
def due(request: Request, user: Support) -> Response:
    """The page at once, each row's checks from memory when nothing they depend on changed
    since; the others are filled in after by the browser (``/check/REF``), or, without
    JavaScript, all run before the page is drawn when it is asked for with ``checks=now``."""
    from workers.web.jobs import jobs_of
    from workers.web.preflight_cache import keys, versions

    ctx = web_context(request)
    today = ctx.today()
    listing = read(request.query_params, ctx.directory)
    cache = _cache(request)
    with ctx.sessions() as session:
        page = review_list.upcoming_page(
            session, listing,
            mailout_bounds=review_list.mailout_bounds(ctx.rules, ctx.calendar, today))
        kept = keys(session, (row.ref for row in page.rows), versions(ctx), ctx.clock.now())
    checks = {ref: found for ref, key in kept.items() if (found := cache.get(key)) is not None}
    if request.query_params.get("checks") == "now":
        for row in page.rows:
            if row.ref not in checks and row.ref in kept:
                checks[row.ref] = _checked(ctx, cache, row.ref, kept[row.ref])
    return render(request, "support/mailouts.html", page=page, listing=listing, checks=checks,
                  ready=sum(c.ready for c in checks.values()), today=today,
                  iros=ctx.directory.iros, teams=ctx.directory.teams, whens=WHEN,
                  job=jobs_of(request).get(JOB), now_link=listing.query() + "&checks=now")


@router.get("/check/{review_ref}")
def check_row(request: Request, review_ref: str, user: Support) -> Response:
    """One row of the page with its checks run (or remembered): what the page's row asks for."""
    from workers.errors import NotFoundError
    from workers.web.preflight_cache import keys, versions

    ctx = web_context(request)
    with ctx.sessions() as session:
        line = review_list.line_of(session, review_ref)
        kept = keys(session, [review_ref], versions(ctx), ctx.clock.now())
    if line is None or review_ref not in kept:
        raise NotFoundError(f"no review {review_ref[:40]}")
    cache = _cache(request)
    check = cache.get(kept[review_ref]) or _checked(ctx, cache, review_ref, kept[review_ref])
    return render(request, "support/_mailout_row.html", r=line, c=check, inline_why=True)


def _cache(request: Request) -> PreflightCache:
    from workers.web.preflight_cache import PreflightCache

    state = request.app.state
    if getattr(state, "preflight_cache", None) is None:
        state.preflight_cache = PreflightCache()
    cache: PreflightCache = state.preflight_cache
    return cache


def _checked(ctx: WebContext, cache: PreflightCache, ref: str, key: Hashable) -> Check:
    from workers.web.support_reviews import preflight

    check = preflight(ctx, ref)
    cache.put(key, check)
    return check


@router.post("/send")
def send(request: Request, user: Support, scope: Annotated[str, Form()] = "",
         review: Annotated[list[str] | None, Form()] = None, q: Annotated[str, Form()] = "",
         iro: Annotated[str, Form()] = "", team: Annotated[str, Form()] = "",
         mailout: Annotated[str, Form()] = "",
         confirmed: Annotated[str, Form()] = "") -> Response:
    """Ask once, then send the selected reviews (or all the filters match) in the background."""
    from workers.web.bulk_mailout import mailout_work
    from workers.web.jobs import jobs_of

    ctx = web_context(request)
    if scope not in ("selected", "all"):
        raise BadInputError("scope: expected selected or all")
    form = {"q": q, "iro": iro, "team": team, "mailout": mailout}
    listing = read(form, ctx.directory)
    back = "/support/mailouts" + listing.query(page=1)
    chosen = review or []
    with ctx.sessions() as session:  # only reviews still due get through, whatever was posted
        refs = review_list.matching_refs(
            session, listing, among=chosen if scope == "selected" else None,
            mailout_bounds=review_list.mailout_bounds(ctx.rules, ctx.calendar, ctx.today()))
    if not refs:
        flash(request, "None of the reviews chosen has a mail-out due now (nothing selected, or "
                       "they were sent meanwhile); nothing was sent.", "warn")
        return RedirectResponse(back, status_code=303)
    if not confirm.is_confirmed(confirmed):
        some = "the selected" if scope == "selected" else "every"
        return confirm.ask(
            request, question=f"Send the invitations for {_reviews(len(refs))}?",
            detail=f"The invitations, forms and reminders of {some} review with a mail-out "
                   f"due{_filtered(listing)}: {_reviews(len(refs))}.\n"
                   "Each is checked again first; any that fails the checks is listed with the "
                   "reasons and nothing of it is sent. Letters go by each person's channel.",
            yes=f"Yes, send for {_reviews(len(refs))}", back=back,
            fields=[("scope", scope), *((k, v) for k, v in listing.filters.items()
                                        if k in FILTERS),
                    *(("review", ref) for ref in refs if scope == "selected")])
    job = jobs_of(request).start(JOB, user.email, mailout_work(ctx, refs, user.email))
    if job is None:
        flash(request, "A mail-out is being sent already; its progress is below. Send these "
                       "once it has finished.", "warn")
    return RedirectResponse(back, status_code=303)


def _reviews(n: int) -> str:
    return f"{n} review{'' if n == 1 else 's'}"


def _filtered(listing: Listing) -> str:
    shown = [f"{k} {v}" for k, v in listing.filters.items() if k in FILTERS and k != "mailout"]
    return f" (filtered by {', '.join(shown)})" if shown else ""


@router.get("/job")
def job_progress(request: Request, user: Support) -> Response:
    """The progress the page polls while the mail-outs go (204 while nothing changed)."""
    from workers.web.jobs import job_fragment, jobs_of

    return job_fragment(request, jobs_of(request).get(JOB), JOB, "/support/mailouts/job")
