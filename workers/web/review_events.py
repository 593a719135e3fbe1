"""After a review meeting, on the web: held (date, participation, who attended), decisions sent,
record written — the same service functions as `iro review held|decisions-sent|recorded`.

Only the IRO chairing the review, or the IRO manager (directory.yaml ``iro_manager``), may record
these; anyone else is refused with 403 and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from workers.errors import BadInputError, RefusedError
from workers.store.models import Deadline, Review
from workers.web import confirm
from workers.web.accounts import User
from workers.web.context import WebContext, web_context
from workers.web.form_dates import form_day
from workers.web.pages import flash, render
from workers.web.security import signed_in

router = APIRouter(prefix="/iro/reviews")
SignedIn = Annotated[User, Depends(signed_in)]
NOT_YOURS = "Only the IRO chairing this review, or the IRO manager, may record it."
WRITE_UPS = {"decisions-sent": "decisions", "recorded": "record"}


def is_iro_manager(ctx: WebContext, user: User) -> bool:
    return (user.has("manager") or user.has("iro")) and \
        ctx.directory.iro_manager.email.strip().lower() == user.email


def may_record(ctx: WebContext, user: User, review: Review) -> bool:
    """The chairing IRO, or the IRO manager (IRO Handbook: the IRO owns the record; the
    manager covers when the IRO is away)."""
    chair = user.has("iro") and review.iro_email.strip().lower() == user.email
    return chair or is_iro_manager(ctx, user)


def review_to_record(ctx: WebContext, session: object, review_ref: str, user: User) -> Review:
    """The review, if ``user`` may record on it (``may_record``); else 403."""
    from sqlalchemy.orm import Session

    from workers.reviews.records import review_by_ref

    assert isinstance(session, Session)
    review = review_by_ref(session, review_ref)
    if not may_record(ctx, user, review):
        raise HTTPException(403, NOT_YOURS)
    return review


@router.get("/{review_ref}")
def review_page(request: Request, review_ref: str, user: SignedIn) -> Response:
    return _page(request, review_ref, user)


def _page(request: Request, review_ref: str, user: User, status: int = 200,
          form_error: str | None = None, typed: dict[str, object] | None = None) -> Response:
    from workers.mailout.documents import review_on
    from workers.reviews.distribution import decisions_of
    from workers.reviews.record_replies import held_for

    ctx = web_context(request)
    with ctx.sessions() as session:
        review = review_to_record(ctx, session, review_ref, user)
        child = review.child
        people = sorted(review.participants, key=lambda p: (p.role, p.ref))
        deadlines = {d.kind: d for d in session.scalars(
            select(Deadline).where(Deadline.review_id == review.id,
                                   Deadline.kind.in_(("decisions", "record"))))}
        meets_on = review_on(review)
        keep = dt.timedelta(days=ctx.settings.mailbox.record_reply_days)
        replies = [(r.id, r.received_at, r.received_at + keep)
                   for r in held_for(session, review)]
        has_decisions = bool(decisions_of(session, review))
    back = "/iro" if user.has("iro") else "/manager"
    copies, problem = _copies(ctx, review)
    return render(request, "iro/review.html", status=status, form_error=form_error,
                  typed=typed or {}, review=review, child=child, people=people,
                  deadlines=deadlines, meets_on=meets_on, today=ctx.today(), back=back,
                  codes=ctx.rules.participation_codes, copies=copies, copies_problem=problem,
                  replies=replies, has_decisions=has_decisions)


def _copies(ctx: WebContext, review: Review) -> tuple[list[Any], str]:
    """Who the completed record would go to (nothing planned), or why it cannot go yet."""
    from workers.reviews.distribution import distribute

    if not review.record_file:
        return [], ""
    try:
        shown = distribute(ctx.sessions, ctx.mailout, review.ref, withhold={}, confirm=False,
                           actor="web")
    except BadInputError as exc:  # the preflight's problems, a record no longer kept
        return [], str(exc)
    planned = shown.existing
    return [(c, c.key in planned) for c in shown.copies], ""


@router.post("/{review_ref}/distribute")
def distribute_record(request: Request, review_ref: str, user: SignedIn,
                      confirm: Annotated[str, Form()] = "") -> Response:
    """The IRO confirms the list shown on the page: the copies are planned (issue 15 §2)."""
    from workers.reviews.distribution import distribute

    ctx = web_context(request)
    target = f"/iro/reviews/{review_ref}"
    with ctx.sessions() as session:
        review = review_to_record(ctx, session, review_ref, user)
        ref = review.ref
    if confirm != "yes":
        flash(request, "Tick the box to confirm the list; nothing was sent.", "error")
        return RedirectResponse(target, status_code=303)
    try:
        done = distribute(ctx.sessions, ctx.mailout, ref, withhold={}, confirm=True,
                          actor=user.email)
    except BadInputError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(target, status_code=303)
    flash(request, f"The record is on its way: {done.created} copies planned." if done.created
          else "Nothing new to send: every copy of the record was planned before.")
    return RedirectResponse(target, status_code=303)


def _status(exc: BadInputError) -> int:
    return 409 if isinstance(exc, RefusedError) else 400


@router.post("/{review_ref}/held")
def held(request: Request, review_ref: str, user: SignedIn,
         held_on: Annotated[str, Form()] = "", participation: Annotated[str, Form()] = "",
         attended: Annotated[list[str] | None, Form()] = None,
         confirmed: Annotated[str, Form()] = "") -> Response:
    from workers.reviews.service import held_doubts, mark_held

    ctx = web_context(request)
    target = f"/iro/reviews/{review_ref}"
    today = ctx.today()
    with ctx.sessions() as session:
        review = review_to_record(ctx, session, review_ref, user)
        if not confirm.is_confirmed(confirmed):
            try:
                day = form_day(held_on, "Held on", today)
            except BadInputError as exc:
                return _page(request, review_ref, user, 400, str(exc), {
                    "held_on": held_on, "participation": participation,
                    "attended": list(attended or ())})
            doubts = held_doubts(ctx.rules, ctx.calendar, review, day)  # issue 16 §5
            return confirm.ask(
                request, question=f"Record review {review.ref} as held on {day:%d %B %Y}?",
                detail=("Please check the date: " + "; ".join(doubts) + ". " if doubts else "")
                + "The write-up clocks start, the draft review record is emailed to the "
                  "chair and the next review is set up.",
                yes="Yes, record it as held", back=target,
                fields=[("held_on", held_on), ("participation", participation),
                        *(("attended", ref) for ref in attended or ())])
        try:
            result = mark_held(session, ctx.rules, ctx.directory, ctx.calendar, review.ref,
                               form_day(held_on, "Held on", today),
                               participation=participation or None, attended=attended or (),
                               today=today, now=ctx.clock.now(), actor=user.email,
                               confirm=True)  # the page showed any doubt before the "yes"
        except BadInputError as exc:  # RefusedError too
            session.rollback()
            return _page(request, review_ref, user, _status(exc), str(exc), {
                "held_on": held_on, "participation": participation,
                "attended": list(attended or ())})
        session.commit()
        timing = result.plan.timeliness
        text = (f"Review {result.review.ref} recorded as held on {result.review.held_on:%d %B %Y}"
                f" ({'in timescale' if timing.in_timescale else f'{timing.days_late} days late'})"
                "; the draft record is on its way to the IRO")
        following = result.next_review
        if following is not None:
            text += f"; next review {following.ref} due {following.due_on:%d %B %Y}"
    flash(request, text + ".")
    return RedirectResponse(target, status_code=303)


MAX_RECORD_BYTES = 20 * 1024 * 1024  # a long record with photographs; more is a mistake


@router.post("/{review_ref}/record-file")
def record_file(request: Request, review_ref: str, user: SignedIn,
                record: Annotated[UploadFile, File()],
                written_on: Annotated[str, Form()] = "") -> Response:
    """The completed record uploaded: kept with the case, its clock stopped, its decisions table
    read into the store (as `iro review recorded REF --file`). One that cannot be read is kept,
    and the page says why."""
    from workers.reviews.returned_record import record_returned

    ctx = web_context(request)
    target = f"/iro/reviews/{review_ref}"
    today = ctx.today()
    data = record.file.read(MAX_RECORD_BYTES + 1)
    with ctx.sessions() as session:
        review = review_to_record(ctx, session, review_ref, user)
        try:
            if not data:
                raise BadInputError("The completed record is an empty file; choose the .docx")
            if len(data) > MAX_RECORD_BYTES:
                raise BadInputError("The completed record is larger than 20 MB; remove pictures "
                                    "and upload it again")
            done = record_returned(session, ctx.calendar, ctx.settings.documents_dir,
                                   review.ref, written_on=form_day(written_on, "Written on", today),
                                   name="The completed record", content=data, today=today,
                                   actor=user.email)
        except BadInputError as exc:  # RefusedError too
            session.rollback()
            flash(request, str(exc), "error")
            return RedirectResponse(target, status_code=303)
        session.commit()
    if done.problem:
        flash(request, f"{done.problem}. The file is kept with the case; no decisions were "
                       "stored.", "error")
    else:
        flash(request, f"Review record kept with the case; {done.decisions} decision(s) read "
                       "from it for the next review's draft.")
    return RedirectResponse(target, status_code=303)


@router.post("/{review_ref}/{event}")
def write_up(request: Request, review_ref: str, event: str, user: SignedIn,
             met_on: Annotated[str, Form()] = "") -> Response:
    from workers.reviews.service import stop_writeup

    kind = WRITE_UPS.get(event)
    if kind is None:
        raise HTTPException(404, "No such action.")
    ctx = web_context(request)
    target = f"/iro/reviews/{review_ref}"
    today = ctx.today()
    with ctx.sessions() as session:
        review = review_to_record(ctx, session, review_ref, user)
        try:
            day = form_day(met_on, "Date", today)
            stop = stop_writeup(session, ctx.calendar, review.ref, kind,  # type: ignore[arg-type]
                                day, today=today, actor=user.email)
        except BadInputError as exc:  # RefusedError too
            session.rollback()
            return _page(request, review_ref, user, _status(exc), str(exc),
                         {"met_on": met_on, "event": event})
        session.commit()
    what = "Decisions sent" if kind == "decisions" else "Review record written"
    verdict = "in time" if stop.in_time else "late"
    flash(request, f"{what} on {day:%d %B %Y}: {stop.working_days_taken} working days after the "
                   f"meeting ({verdict}).", "ok" if stop.in_time else "warn")
    return RedirectResponse(target, status_code=303)


@router.post("/{review_ref}/correct/held")
def held_date(request: Request, review_ref: str, user: SignedIn,
              held_on: Annotated[str, Form()] = "",
              confirm: Annotated[str, Form()] = "") -> Response:
    """A held date entered wrongly, corrected by the chair or an IRO manager (issue 16 §5): the
    same service as `iro correct held`."""
    from workers.casework.redate import Corrector, correct_held

    ctx = web_context(request)
    target = f"/iro/reviews/{review_ref}"
    today = ctx.today()
    with ctx.sessions() as session:
        review = review_to_record(ctx, session, review_ref, user)
        try:
            done = correct_held(session, ctx.rules, ctx.directory, ctx.calendar, review.ref,
                                form_day(held_on, "Held on", today),
                                who=Corrector(user.email.lower(), frozenset(user.roles)),
                                today=today, now=ctx.clock.now(), confirm=confirm == "yes")
        except BadInputError as exc:  # RefusedError too
            session.rollback()
            flash(request, " ".join(str(exc).split()), "error")
            return RedirectResponse(target, status_code=303)
        session.commit()
    flash(request, f"Review {done.review_ref}: the date held is now {done.new:%d %B %Y} "
                   f"(was {done.old:%d %B %Y}); " + "; ".join(done.lines()) + ".")
    return RedirectResponse(target, status_code=303)
