"""The manager's home page's lists, counted, sorted, filtered and paged in SQL: which open
escalations are at a stage addressed to the manager (the lists themselves are
``workers.web.escalation_list``'s), and the items past their date across the team (write-ups,
reviews).

``addressed_to`` is who a stage is addressed to, for one escalation; ``addressed_to_sql`` the same
rule as a condition for the database, beside it so the two change together
(tests/test_due_sql.py checks they agree).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, true
from sqlalchemy.orm import Session

from workers.store.models import Child, Escalation, EscalationStep
from workers.web.listing import Listing, Part, fetch_part, read_listing

if TYPE_CHECKING:
    from workers.store.deadline_queries import DueItem
    from workers.web.context import WebContext


def addressed_to(ctx: WebContext, row: Escalation, child: Child) -> set[str]:
    """Who the escalation's current stage is addressed to (emails, lower case)."""
    stage = ctx.policy.stage(row.stage)
    people = (ctx.directory.resolve(key, team_key=child.team, iro_email=row.iro_email)
              for key in stage.recipients)
    return {p.email.lower() for p in people if p is not None}


def addressed_to_sql(ctx: WebContext, email: str) -> ColumnElement[bool]:
    """``addressed_to``'s answer as an SQL condition on Escalation joined to its Child: is the
    current stage addressed to ``email``? Each stage's recipient keys resolved as ``addressed_to``
    resolves them (tests/test_due_sql.py checks the two agree)."""
    me = email.strip().lower()
    d = ctx.directory
    stages = []
    for stage_rule in ctx.rules.escalation.stages:
        ways: list[ColumnElement[bool]] = []
        for key in ctx.policy.stage(stage_rule.key).recipients:
            if key == "iro":
                if d.iro(me) is not None:
                    ways.append(func.lower(func.trim(Escalation.iro_email)) == me)
            elif key == "team_manager":
                teams = [t.key for t in d.teams if t.team_manager.email.lower() == me]
                if teams:
                    ways.append(Child.team.in_(teams))
            else:
                person = d.resolve(key)
                if person is not None and person.email.lower() == me:
                    ways.append(true())
        if ways:
            stages.append(and_(Escalation.stage == stage_rule.key, or_(*ways)))
    return or_(false(), *stages)


def responded_at_stage() -> ColumnElement[bool]:
    """``State.responded_at_stage`` in SQL: a response recorded at the current stage."""
    return exists().where(EscalationStep.escalation_id == Escalation.id,
                          EscalationStep.action == "responded",
                          EscalationStep.stage == Escalation.stage)


def overdue_listing(ctx: WebContext, params: Mapping[str, str]) -> Listing:
    """The overdue lists' filters (IRO, team, a child's or review's reference, the date it was
    due) and sort (date, child, IRO), for both lists."""
    from workers.store.due_sql import SORTS

    return read_listing(params, sorts=SORTS, default_sort="due",
                        choices={"iro": [p.email.lower() for p in ctx.directory.iros],
                                 "team": [t.key for t in ctx.directory.teams]},
                        dates=("from", "to"), texts=("q",))


def overdue_part(ctx: WebContext, session: Session, today: dt.date, listing: Listing,
                  params: Mapping[str, str], name: str, kinds: tuple[str, ...]) -> Part[DueItem]:
    """The items of ``kinds`` past their date across the team, filtered and sorted as
    ``listing`` asks, a page at a time in SQL."""
    from workers.store import due_sql

    late = due_sql.items_query(today=today, overdue_only=True, kinds=kinds,
                               iro_email=listing.get("iro") or None,
                               team=listing.get("team") or None,
                               search=listing.get("q"), due_from=listing.day("from"),
                               due_to=listing.day("to"))
    query = due_sql.ordered(late, listing.sort, listing.descending)
    return fetch_part(params, name, due_sql.count(session, late), lambda start, n: (
        due_sql.as_items(session.execute(query.offset(start).limit(n)).all(), ctx.calendar,
                         today)))
