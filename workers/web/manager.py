"""Manager pages: escalations at my stage awaiting my response, overdue write-ups across the
team, every escalation I may see (searched, filtered and sorted), and the annual report with its
charts.

A manager may see and respond to an escalation only while its current stage is addressed to them
(the stage's recipients resolved from directory.yaml and the child's team); the IRO manager may
see every escalation. Resolved ones are listed to every manager (references and codes, never the
concern), as the home page lists this year's. Write-ups are listed by reference and initials.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import ColumnElement, and_, or_

from workers.errors import BadInputError, NotFoundError
from workers.store.models import Child, Escalation
from workers.web.accounts import User
from workers.web.context import WebContext, web_context
from workers.web.errorpages import Id
from workers.web.manager_lists import addressed_to, addressed_to_sql
from workers.web.pages import flash, render
from workers.web.review_events import is_iro_manager
from workers.web.security import require

if TYPE_CHECKING:
    from workers.report.figures import AnnualReport

router = APIRouter(prefix="/manager")
Manager = Annotated[User, Depends(require("manager"))]
WRITE_UPS = ("decisions", "record")


@router.get("")
def home(request: Request, user: Manager) -> Response:
    from workers.store.deadline_queries import REVIEW_DUE
    from workers.store.due_sql import overdue_by_iro
    from workers.store.next_review import refresh
    from workers.web import escalation_list as el
    from workers.web.listing import Listing
    from workers.web.manager_lists import overdue_listing, overdue_part, responded_at_stage
    from workers.web.manager_views import caseloads, report_year_start

    ctx = web_context(request)
    today = ctx.today()
    iro_manager = is_iro_manager(ctx, user)
    params = request.query_params
    listing = overdue_listing(ctx, params)
    with ctx.sessions() as session:
        mine = addressed_to_sql(ctx, user.email)
        # the home page's lists: open ones, the earliest response first (none last)
        soonest, as_row = Listing(sort="due"), el.list_rows(ctx, today)
        is_open = Escalation.status == "open"
        awaiting = el.part_of(ctx, session, soonest, params, "awaiting",
                              (is_open, mine, ~responded_at_stage()), as_row)
        answered = el.fetch(ctx, session, soonest, (is_open, mine, responded_at_stage()), as_row)
        # the IRO manager sees (and may resolve) every open one
        everyone = (el.part_of(ctx, session, soonest, params, "everyone", (is_open, ~mine), as_row)
                    if iro_manager else None)
        if refresh(session, ctx.calendar, ctx.rules.review_timescales):
            session.commit()
        overdue = overdue_part(ctx, session, today, listing, params, "overdue", WRITE_UPS)
        overdue_reviews = overdue_part(ctx, session, today, listing, params,
                                       "overdue_reviews", (REVIEW_DUE,))
        names = ctx.directory.iro_names()
        iros = caseloads(session, names, overdue_by_iro(session, today), today)
        # resolved this report year, the latest first
        closed = el.part_of(ctx, session, Listing(sort="resolved", descending=True), params,
                            "closed", (Escalation.status == "resolved",
                                       Escalation.resolved_on >= report_year_start(today)),
                            as_row)
    return render(request, "manager/home.html", awaiting=awaiting,
                  answered=answered, everyone=everyone,
                  iro_manager=iro_manager, overdue=overdue, today=today,
                  overdue_reviews=overdue_reviews, listing=listing,
                  iro_people=ctx.directory.iros, teams=ctx.directory.teams,
                  iros=iros, closed=closed, names=names,
                  year_start=report_year_start(today), **el.titles(ctx))


def _may_see(ctx: WebContext, user: User) -> list[ColumnElement[bool]]:
    """``_visible``'s rule for a list, as SQL: the IRO manager sees every escalation; another
    manager the open ones at a stage addressed to them, and the resolved ones (the home page
    lists those to every manager), never an open one at someone else's stage."""
    if is_iro_manager(ctx, user):
        return []
    return [or_(and_(Escalation.status == "open", addressed_to_sql(ctx, user.email)),
                Escalation.status == "resolved")]


@router.get("/escalations")
def escalation_list(request: Request, user: Manager) -> Response:
    from workers.web import escalation_list as el

    ctx = web_context(request)
    today = ctx.today()
    listing = el.escalation_listing(ctx, request.query_params, people=True)
    iro_manager = is_iro_manager(ctx, user)

    def linked(row: Escalation, child: Child) -> bool:  # only what the reader may open
        return iro_manager or _at_my_stage(ctx, user, row, child)

    with ctx.sessions() as session:
        page = el.page_of(ctx, session, listing, _may_see(ctx, user),
                          el.lines(ctx, today, linked))
    return render(request, "manager/escalations.html", page=page, listing=listing,
                  today=today, iro_manager=iro_manager, iro_people=ctx.directory.iros,
                  teams=ctx.directory.teams, names=ctx.directory.iro_names(), **el.titles(ctx))


def _at_my_stage(ctx: WebContext, user: User, row: Escalation, child: Child) -> bool:
    """Is the escalation open at a stage addressed to this manager (who may then respond)?"""
    return row.status == "open" and user.email in addressed_to(ctx, row, child)


def _visible(ctx: WebContext, session: object, escalation_id: int,
             user: User) -> tuple[Escalation, Child, bool]:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    row = session.get(Escalation, escalation_id)
    if row is None:
        raise NotFoundError(f"no escalation {escalation_id}")
    child = session.get(Child, row.child_id)
    assert child is not None
    mine = _at_my_stage(ctx, user, row, child)
    if not mine and not is_iro_manager(ctx, user):
        raise HTTPException(403, "This escalation is not at a stage addressed to you.")
    return row, child, mine


@router.get("/escalations/{escalation_id}")
def escalation(request: Request, escalation_id: Id, user: Manager) -> Response:
    return _escalation_page(request, escalation_id, user)


def _escalation_page(request: Request, escalation_id: int, user: User, status: int = 200,
                     form_error: str | None = None,
                     typed: dict[str, object] | None = None) -> Response:
    from workers.escalation.views import history, list_row
    from workers.web.escalation_list import titles

    ctx = web_context(request)
    with ctx.sessions() as session:
        row, child, mine = _visible(ctx, session, escalation_id, user)
        summary = list_row(ctx.policy, row, child.ref, ctx.today())
        steps, concern = history(row), row.concern
    return render(request, "manager/escalation.html", status=status, summary=summary,
                  steps=steps, concern=concern, can_respond=mine, form_error=form_error,
                  typed=typed or {},
                  can_resolve=summary.status == "open" and is_iro_manager(ctx, user),
                  **titles(ctx))


@router.post("/escalations/{escalation_id}/respond")
def respond(request: Request, escalation_id: Id, user: Manager,
            text: Annotated[str, Form()]) -> Response:
    from workers.escalation.service import escalation_ref

    ctx = web_context(request)
    target = f"/manager/escalations/{escalation_id}"
    with ctx.sessions() as session:
        _, _, mine = _visible(ctx, session, escalation_id, user)
        if not mine:
            raise HTTPException(403, "Only those the current stage is addressed to may respond.")
        try:
            ctx.escalations(session).respond(escalation_id, text=text, by=user.email)
        except BadInputError as exc:
            session.rollback()
            return _escalation_page(request, escalation_id, user, 400, str(exc),
                                    {"text": text})
        session.commit()
    flash(request, f"Your response to {escalation_ref(escalation_id)} is recorded.")
    return RedirectResponse(target, status_code=303)


@router.post("/escalations/{escalation_id}/resolve")
def resolve(request: Request, escalation_id: Id, user: Manager,
            outcome: Annotated[str, Form()] = "") -> Response:
    """The IRO manager may resolve any escalation; the service's rule refuses anyone else (only
    the IRO who raised it, or the IRO manager), and the refusal is audited."""
    from workers.errors import RefusedError
    from workers.escalation.service import commit_refusal, escalation_ref

    ctx = web_context(request)
    target = f"/manager/escalations/{escalation_id}"
    with ctx.sessions() as session:
        _visible(ctx, session, escalation_id, user)
        try:
            row = ctx.escalations(session).resolve(escalation_id, outcome=outcome, by=user.email)
        except RefusedError as exc:
            commit_refusal(session)
            if not is_iro_manager(ctx, user):
                raise HTTPException(403, str(exc)) from None
            return _escalation_page(request, escalation_id, user, 409, str(exc),
                                    {"outcome": outcome})
        except BadInputError as exc:
            session.rollback()
            return _escalation_page(request, escalation_id, user, 400, str(exc),
                                    {"outcome": outcome})
        session.commit()
        text = f"{escalation_ref(row.id)} resolved at stage {row.stage.replace('_', ' ')}."
    flash(request, text)
    return RedirectResponse(target, status_code=303)


EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2100, 12, 31)
MAX_PERIOD_DAYS = 3653  # ten years: a longer sweep is no report anyone publishes


def _period(ctx: WebContext, start: str, end: str) -> tuple[dt.date, dt.date]:
    """The dates asked for, else this report year (1 April to 31 March) so far."""
    if start and end:
        try:
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:
            raise BadInputError("from and to: expected dates as YYYY-MM-DD") from None
        if last < first:
            raise BadInputError("to is before from")
        if first < EARLIEST or last > LATEST or (last - first).days > MAX_PERIOD_DAYS:
            raise BadInputError(f"from and to: a period between {EARLIEST:%d %B %Y} and "
                                f"{LATEST:%d %B %Y}, at most ten years long")
        return first, last
    today = ctx.today()
    year = today.year if today.month >= 4 else today.year - 1
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def _figures(ctx: WebContext, first: dt.date, last: dt.date) -> AnnualReport:
    from workers.report.annual import report_for
    from workers.report.figures import Period

    with ctx.sessions() as session:
        return report_for(session, ctx.rules, Period(first, last), today=ctx.today())


def _charted(figures: AnnualReport) -> dict[str, bool]:
    """Which charts have something to draw (an empty chart is axes and nothing else)."""
    return {"reviews": bool(figures.reviews.per_iro_month),
            "escalations": any(y.children for y in figures.escalations)}


def _no_figures(figures: AnnualReport) -> bool:
    p = figures.population
    return not any(_charted(figures).values()) and figures.reviews.held == 0 and not any(
        (p.at_start, p.at_end, p.most, p.admissions, p.leavers))


@router.get("/report")
def report(request: Request, user: Manager, start: str = "", end: str = "") -> Response:
    from workers.report.tables import report_tables

    ctx = web_context(request)
    first, last = _period(ctx, start, end)
    figures = _figures(ctx, first, last)
    empty = _no_figures(figures)
    tables = [] if empty else report_tables(figures, dict(ctx.rules.participation_codes),
                                            ctx.directory.iro_names())
    return render(request, "manager/report.html", tables=tables, first=first, last=last,
                  label=figures.period.label, empty=empty, charted=_charted(figures))


@router.get("/report/download.{kind}")
def report_download(request: Request, kind: str, user: Manager, start: str = "",
                    end: str = "") -> Response:
    """The same figures as `iro report --format docx|csv`, for the annual report's author."""
    from workers.report.tables import report_tables

    if kind not in ("docx", "csv"):
        raise HTTPException(404, "Downloads are .docx or .csv.")
    ctx = web_context(request)
    first, last = _period(ctx, start, end)
    figures = _figures(ctx, first, last)
    names = ctx.directory.iro_names()
    tables = report_tables(figures, dict(ctx.rules.participation_codes), names)
    name = f"iro-annual-report-{first.isoformat()}-to-{last.isoformat()}.{kind}"
    if kind == "csv":
        from workers.report.formats import to_csv

        body, media = to_csv(tables).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        from workers.report.document import render_docx

        body = render_docx(figures, tables, ctx.settings.templates_dir,
                           generated_on=ctx.today(), iro_names=names)
        media = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/report/chart/{name}.png")
def chart(request: Request, name: str, user: Manager, start: str = "",
          end: str = "") -> Response:
    from workers.report import charts

    draw = {"reviews": charts.reviews_per_iro_month,
            "escalations": charts.escalations_by_stage}.get(name)
    if draw is None:
        raise HTTPException(404, "No such chart.")
    ctx = web_context(request)
    first, last = _period(ctx, start, end)
    figures = _figures(ctx, first, last)
    if not _charted(figures)[name]:
        raise HTTPException(404, "No figures for this chart in this period.")
    image = (charts.reviews_per_iro_month(figures, ctx.directory.iro_names(), charts.SCREEN)
             if name == "reviews" else charts.escalations_by_stage(figures, charts.SCREEN))
    return Response(image, media_type="image/png")
