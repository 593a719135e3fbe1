"""IRO pages: my caseload and write-ups, the draft review record, my escalations and their steps.

An IRO sees only their own children: every route checks the child's (or review's, or
escalation's) IRO against the signed-in email, and refuses with 403 otherwise.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.errors import BadInputError, RefusedError
from workers.store import audit
from workers.store.models import Child, Deadline, Escalation, Review
from workers.web import confirm
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.errorpages import Id
from workers.web.pages import flash, render
from workers.web.security import require

router = APIRouter(prefix="/iro")
Iro = Annotated[User, Depends(require("iro"))]
NOT_YOURS = "This child is not on your caseload."
CASELOAD_SORTS = ("next", "child")  # the next review's date (the rules' order), the reference
CASELOAD_SHOW = {"overdue": "Only those with something overdue"}


def _mine(owner: str, user: User) -> None:
    if owner.strip().lower() != user.email:
        raise HTTPException(403, NOT_YOURS)


@router.get("")
def caseload(request: Request, user: Iro) -> Response:
    from workers.reviews.caseload import ChildLine, caseloads
    from workers.store import due_sql
    from workers.store.next_review import refresh
    from workers.web.listing import Part, fetch_part, read_listing

    ctx = web_context(request)
    today = ctx.today()
    params = request.query_params
    listing = read_listing(params, sorts=CASELOAD_SORTS, default_sort="next",
                           choices={"show": list(CASELOAD_SHOW)}, dates=("from", "to"),
                           texts=("q",))
    with ctx.sessions() as session:
        if refresh(session, ctx.calendar, ctx.rules.review_timescales):
            session.commit()
        overdue = due_sql.count(session, due_sql.items_query(
            today=today, overdue_only=True, iro_email=user.email))

        lines = due_sql.caseload_lines(
            user.email, overdue_on=today if listing.get("show") == "overdue" else None,
            search=listing.get("q"), due_from=listing.day("from"), due_to=listing.day("to"))

        def page_of(start: int, count: int) -> list[ChildLine]:
            ids = due_sql.page_of_lines(session, lines, start, count,
                                        by_child=listing.sort == "child",
                                        descending=listing.descending)
            rows = session.execute(due_sql.ordered(due_sql.items_query(
                iro_email=user.email, child_ids=ids))).all()
            loads = caseloads(due_sql.as_items(rows, ctx.calendar, today))
            found = {c.child_ref: c for c in (loads[0].children if loads else [])}
            refs = {r.child_id: r.child_ref for r in rows}
            return [found[refs[i]] for i in ids if refs.get(i) in found]

        children = fetch_part(params, "children", due_sql.count_lines(session, lines), page_of)
        mine = (func.lower(Review.iro_email) == user.email, Review.status == "held")
        held = fetch_part(  # every review ever held: the latest first, a page at a time
            params, "writeups",
            session.scalar(select(func.count()).select_from(Review).where(*mine)) or 0,
            lambda start, count: list(session.execute(
                select(Review, Child).join(Child, Child.id == Review.child_id).where(*mine)
                .order_by(Review.held_on.desc(), Review.ref.desc())
                .offset(start).limit(count))))
        deadlines = {(d.review_id, d.kind): d for d in session.scalars(
            select(Deadline).where(Deadline.review_id.in_([r.id for r, _ in held.rows]),
                                   Deadline.kind.in_(("decisions", "record"))))}
    writeups = Part([(r, c, deadlines.get((r.id, "decisions")), deadlines.get((r.id, "record")))
                     for r, c in held.rows], held.total, held.number, held.size, held.name,
                    held.params)
    return render(request, "iro/caseload.html", children=children, writeups=writeups,
                  today=today, overdue=overdue, listing=listing, shows=CASELOAD_SHOW)


@router.get("/reviews/{review_ref}/draft-record.docx")
def draft_record(request: Request, review_ref: str, user: Iro) -> Response:
    from workers.reviews.notices import render_draft_record
    from workers.reviews.records import review_by_ref

    ctx = web_context(request)
    with ctx.sessions() as session:
        review = review_by_ref(session, review_ref)
        _mine(review.iro_email, user)
        document = render_draft_record(session, review, ctx.notices)
        audit.record(session, "review_record.downloaded", "review", review.id, actor=user.email,
                     review_ref=review.ref)
        session.commit()
    return Response(document, media_type="application/vnd.openxmlformats-officedocument."
                    "wordprocessingml.document", headers={
                        "Content-Disposition":
                            f'attachment; filename="{review.ref}-draft-review-record.docx"'})


def _my_children(session: Session, user: User) -> list[Child]:
    return list(session.scalars(
        select(Child).where(func.lower(Child.iro_email) == user.email, Child.ceased_on.is_(None))
        .order_by(Child.ref)))


@router.get("/escalations")
def escalations(request: Request, user: Iro) -> Response:
    return _escalations_page(request, user)


def _escalations_page(request: Request, user: User, status: int = 200,
                      form_error: str | None = None,
                      typed: dict[str, object] | None = None) -> Response:
    from workers.web import escalation_list as el

    ctx = web_context(request)
    today = ctx.today()
    params = request.query_params
    listing = el.escalation_listing(ctx, params, people=False)
    mine = func.lower(func.trim(Escalation.iro_email)) == user.email
    line = el.lines(ctx, today, lambda row, child: True)
    state = listing.get("state")
    with ctx.sessions() as session:
        # the open ones are few and all shown; the resolved ones grow every year: paged in SQL
        open_rows = (el.fetch(ctx, session, listing, (mine, Escalation.status == "open"), line)
                     if state != "resolved" else None)
        closed_listing = el.latest_resolved_first(listing, params)
        closed = (el.part_of(ctx, session, closed_listing, params, "resolved",
                             (mine, Escalation.status == "resolved"), line)
                  if state in ("", "resolved") else None)
        children = [(c.ref, c.initials) for c in _my_children(session, user)]
    rules = ctx.rules.escalation
    return render(request, "iro/escalations.html", status=status, open_rows=open_rows,
                  closed=closed, closed_listing=closed_listing, children=children,
                  listing=listing, categories=rules.categories, stages=rules.stages,
                  form_error=form_error, typed=typed or {}, **el.titles(ctx))


@router.post("/escalations")
def raise_escalation(request: Request, user: Iro, child_ref: Annotated[str, Form()],
                     category: Annotated[str, Form()], concern: Annotated[str, Form()],
                     stage: Annotated[str, Form()] = "") -> Response:
    from workers.escalation.service import escalation_ref

    ctx = web_context(request)
    with ctx.sessions() as session:
        child = session.scalars(select(Child).where(Child.ref == child_ref)).one_or_none()
        if child is None or child.iro_email.strip().lower() != user.email:
            raise HTTPException(403, NOT_YOURS)
        try:
            row = ctx.escalations(session).raise_(child_ref, concern=concern, category=category,
                                                  stage=stage or None, iro_email=user.email)
        except BadInputError as exc:
            session.rollback()
            return _escalations_page(request, user, 400, str(exc), {
                "child_ref": child_ref, "category": category, "stage": stage,
                "concern": concern})
        session.commit()
        ref, esc_id = escalation_ref(row.id), row.id
    flash(request, f"{ref} raised; the stage notice is on its way.")
    return RedirectResponse(f"/iro/escalations/{esc_id}", status_code=303)


def _confirm_step(request: Request, row: Escalation, action: str, to: str,
                  back: str) -> Response:
    """Advancing or referring sends notices to managers or CAFCASS: asked once first."""
    from workers.escalation.service import escalation_ref

    ctx = web_context(request)
    titles = {s.key: s.title for s in ctx.rules.escalation.stages}
    ref = escalation_ref(row.id)
    if action == "advance":
        where = titles.get(to, to) if to else "the next stage"
        return confirm.ask(request, question=f"Advance {ref} to {where}?",
                           detail=f"It moves on from {titles.get(row.stage, row.stage)} and "
                                  "the stage notice is sent to the managers at once.",
                           yes=f"Yes, advance {ref}", back=back, fields=[("to", to)])
    return confirm.ask(request, question=f"Refer {ref} to CAFCASS?",
                       detail="The referral notice is sent to CAFCASS at once, alongside the "
                              "council's own procedure (the stage does not change).",
                       yes=f"Yes, refer {ref} to CAFCASS", back=back)


def _own_escalation(session: Session, escalation_id: int, user: User) -> Escalation:
    from workers.errors import NotFoundError

    row = session.get(Escalation, escalation_id)
    if row is None:
        raise NotFoundError(f"no escalation {escalation_id}")
    _mine(row.iro_email, user)
    return row


@router.get("/escalations/{escalation_id}")
def escalation(request: Request, escalation_id: Id, user: Iro) -> Response:
    return _escalation_page(request, escalation_id, user)


def _escalation_page(request: Request, escalation_id: int, user: User, status: int = 200,
                     form_error: str | None = None,
                     typed: dict[str, object] | None = None) -> Response:
    from workers.escalation.views import history, list_row
    from workers.web.escalation_list import titles

    ctx = web_context(request)
    with ctx.sessions() as session:
        row = _own_escalation(session, escalation_id, user)
        child = session.get(Child, row.child_id)
        assert child is not None
        summary = list_row(ctx.policy, row, child.ref, ctx.today())
        steps = history(row)
        concern = row.concern
    later = [s for s in ctx.rules.escalation.stages if s.key != summary.stage]
    return render(request, "iro/escalation.html", status=status, summary=summary, steps=steps,
                  concern=concern, later=later, form_error=form_error, typed=typed or {},
                  **titles(ctx))


@router.post("/escalations/{escalation_id}/{action}")
def act(request: Request, escalation_id: Id, action: str, user: Iro,
        to: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
        confirmed: Annotated[str, Form()] = "") -> Response:
    from workers.escalation.service import commit_refusal, escalation_ref

    if action not in ("advance", "resolve", "refer-cafcass"):
        raise HTTPException(404, "No such action.")
    ctx = web_context(request)
    target = f"/iro/escalations/{escalation_id}"
    with ctx.sessions() as session:
        own = _own_escalation(session, escalation_id, user)
        if action != "resolve" and not confirm.is_confirmed(confirmed):
            return _confirm_step(request, own, action, to, target)
        svc = ctx.escalations(session)
        try:
            if action == "advance":
                row = svc.advance(escalation_id, to=to or None, by=user.email)
            elif action == "resolve":
                row = svc.resolve(escalation_id, outcome=outcome, by=user.email)
            else:
                row = svc.refer_cafcass(escalation_id, by=user.email)
        except BadInputError as exc:  # RefusedError too
            if isinstance(exc, RefusedError):
                commit_refusal(session)
            else:
                session.rollback()
            return _escalation_page(request, escalation_id, user,
                                    409 if isinstance(exc, RefusedError) else 400, str(exc),
                                    {"to": to, "outcome": outcome, "action": action})
        session.commit()
        text = f"{escalation_ref(row.id)}: stage {row.stage.replace('_', ' ')}, {row.status}."
    flash(request, text)
    return RedirectResponse(target, status_code=303)
