"""The IRO's midway checks (annual report §7.3): my checks due and overdue, each with the open
decisions of the review it follows, and a form to record what I found — the same service as
`iro midway record` (workers/midway/service.py), a concern raising an informal escalation in the
same step if asked. Only the child's IRO sees or records a check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.errors import BadInputError, IroError
from workers.store.deadline_queries import DueItem
from workers.store.models import Child, MidwayCheck, Review, ReviewDecision
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.form_dates import form_day
from workers.web.pages import flash, render
from workers.web.security import require

router = APIRouter(prefix="/iro/midway")
Iro = Annotated[User, Depends(require("iro"))]
RECENT = 10  # my latest recorded checks shown below the due ones


@dataclass(frozen=True)
class DueCheck:
    item: DueItem
    held_on: dt.date | None
    decisions: list[ReviewDecision]


def _due(session: Session, items: list[DueItem]) -> list[DueCheck]:
    refs = [i.review_ref for i in items if i.review_ref]
    reviews = {r.ref: r for r in session.scalars(select(Review).where(Review.ref.in_(refs)))}
    decisions: dict[int, list[ReviewDecision]] = {}
    for d in session.scalars(select(ReviewDecision).where(
            ReviewDecision.review_id.in_([r.id for r in reviews.values()]),
            ReviewDecision.done.is_(False))  # those done need no checking
            .order_by(ReviewDecision.number)):
        decisions.setdefault(d.review_id, []).append(d)
    out = []
    for item in items:
        review = reviews.get(item.review_ref or "")
        out.append(DueCheck(item, review.held_on if review else None,
                            decisions.get(review.id, []) if review else []))
    return out


def _recent(session: Session, user: User) -> list[tuple[MidwayCheck, str, str, str]]:
    rows = session.execute(
        select(MidwayCheck, Review.ref, Child)
        .join(Review, Review.id == MidwayCheck.review_id).join(Child, Child.id == Review.child_id)
        .where(func.lower(Review.iro_email) == user.email)
        .order_by(MidwayCheck.checked_on.desc(), MidwayCheck.id.desc()).limit(RECENT))
    return [(check, ref, child.ref, child.initials) for check, ref, child in rows]


def _page(request: Request, user: User, status: int = 200, form_error: str | None = None,
          typed: dict[str, object] | None = None) -> Response:
    from workers.store.deadline_queries import due_items

    ctx = web_context(request)
    today = ctx.today()
    with ctx.sessions() as session:
        items = [i for i in due_items(session, ctx.calendar, ctx.rules.review_timescales,
                                      today=today, iro_email=user.email) if i.kind == "midway"]
        checks = _due(session, items)
        recent = _recent(session, user)
    return render(request, "iro/midway.html", status=status, form_error=form_error,
                  typed=typed or {}, today=today, checks=checks, recent=recent,
                  overdue=sum(1 for c in checks if c.item.overdue),
                  categories=ctx.rules.escalation.categories)


@router.get("")
def page(request: Request, user: Iro) -> Response:
    return _page(request, user)


@router.post("/{child_ref}")
def record(request: Request, child_ref: str, user: Iro, outcome: Annotated[str, Form()] = "",
           note: Annotated[str, Form()] = "", escalate: Annotated[str, Form()] = "",
           on: Annotated[str, Form()] = "") -> Response:
    from workers.midway.service import record as record_check
    from workers.reviews.records import child_by_ref

    ctx = web_context(request)
    today = ctx.today()
    typed: dict[str, object] = {"child_ref": child_ref, "outcome": outcome, "note": note,
                                "escalate": escalate, "on": on}
    with ctx.sessions() as session:
        child = child_by_ref(session, child_ref)
        if child.iro_email.strip().lower() != user.email:
            raise HTTPException(403, "This child is not on your caseload.")
        try:
            day = form_day(on, "Date", today)
            done = record_check(session, ctx.notices, child_ref=child.ref, outcome=outcome,
                                note=note, by=user.email, on=day, today=today,
                                escalations=ctx.escalations(session) if escalate else None,
                                category=escalate or None)
        except (BadInputError, ValueError) as exc:
            session.rollback()
            message = (str(exc).replace("--outcome", "Outcome").replace("--escalate", "Escalate")
                       .replace("--note", "Note").replace("--on ", "Date ")
                       if isinstance(exc, IroError) else "Date: expected YYYY-MM-DD")
            if not outcome:
                message = "Choose an outcome: on track or concern."
            return _page(request, user, 400, message, typed)
        session.commit()
    what = "on track" if outcome == "on_track" else "a concern"
    from workers.escalation.refs import escalation_ref

    raised = f"; {escalation_ref(done.escalation_id)} raised" if done.escalation_id else ""
    flash(request, f"Midway check for {child.ref} after {done.review_ref} recorded as "
                   f"{what}{raised}.")
    return RedirectResponse("/iro/midway", status_code=303)
