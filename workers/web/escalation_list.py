"""Escalation lists filtered, sorted and paged in SQL: the manager's list of every escalation they
may see and an IRO's own, with a search box for the child's, the review's or the escalation's own
reference, and filters by state, stage, category, IRO, team and the day it was raised.

The states: "awaiting" is an open escalation with no response recorded at its current stage
(``manager_lists.responded_at_stage``), "answered" an open one with a response there. The stage
sorts in the rules' order (escalation.stages in rules.yaml), not by its key.

Who may see which escalation is the caller's rule, handed in as ``scope`` conditions.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select, asc, case, desc, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from workers.store.models import Child, Escalation, Review
from workers.web.listing import Listing, Page, Part, contains, fetch_part, read_listing
from workers.web.manager_lists import responded_at_stage

if TYPE_CHECKING:
    from workers.escalation.views import ListRow
    from workers.web.context import WebContext

T = TypeVar("T")
SORTS = ("due", "raised", "resolved", "ref", "child", "stage", "iro")
STATES = {"open": "Open", "awaiting": "Open, awaiting a response",
          "answered": "Open, answered at its stage", "resolved": "Resolved"}
# ESC-12, esc-12, ESC12 or 12 (an id fits in 32 bits: at most 9 digits stays clear of it)
_REF = re.compile(r"(ESC-?)?(\d{1,9})", re.IGNORECASE)


@dataclass(frozen=True)
class Line:
    """A row as the web lists draw it: who raised it, whether a response is recorded at its
    stage, and whether the reader may open it (a link)."""

    row: ListRow
    iro_email: str
    answered: bool
    linked: bool

    # the row's days as dates, for the pages' one way of writing a day (``|day``)
    @property
    def raised_on(self) -> dt.date:
        return dt.date.fromisoformat(self.row.raised_on)

    @property
    def response_due_on(self) -> dt.date | None:
        return _day(self.row.response_due_on)

    @property
    def resolved_on(self) -> dt.date | None:
        return _day(self.row.resolved_on)


def _day(iso: str) -> dt.date | None:
    return dt.date.fromisoformat(iso) if iso else None


def titles(ctx: WebContext) -> dict[str, Any]:
    """What an escalation page writes by its title rather than its key (rules.yaml): each
    stage's and category's, for the tables and the filter form's choices, and the states."""
    rules = ctx.rules.escalation
    return {"stage_titles": {s.key: s.title for s in rules.stages},
            "category_titles": {c.key: c.title for c in rules.categories},
            "stage_options": [(s.key, s.title) for s in rules.stages],
            "category_options": [(c.key, c.title) for c in rules.categories],
            "states": STATES}


def escalation_listing(ctx: WebContext, params: Mapping[str, str], *, people: bool) -> Listing:
    """The list's filters and sort from the query string (``people``: the IRO and team
    filters too, for a list of more than one IRO's)."""
    rules = ctx.rules.escalation
    choices: dict[str, Sequence[str]] = {
        "state": list(STATES), "stage": [s.key for s in rules.stages],
        "category": [c.key for c in rules.categories]}
    if people:
        choices["iro"] = [p.email.lower() for p in ctx.directory.iros]
        choices["team"] = [t.key for t in ctx.directory.teams]
    listing = read_listing(params, sorts=SORTS, default_sort="due", choices=choices,
                           dates=("from", "to"), texts=("q",))
    return listing if listing.get("state") != "resolved" else latest_resolved_first(
        listing, params)


def latest_resolved_first(listing: Listing, params: Mapping[str, str]) -> Listing:
    """Resolved ones have no response due: unless a sort was asked for, the latest resolved
    come first (as the manager's home page lists them)."""
    return listing if params.get("sort") else replace(listing, sort="resolved",
                                                      descending=True)


def searched(text: str) -> ColumnElement[bool]:
    """The search box: ESC-12 is escalation 12 and nothing else; other text is looked for in
    the child's and the review's references. Bare digits may be either (a case system's
    references can be numbers): escalation 12, and any reference holding 12."""
    in_refs = or_(contains(text, Child.ref),
                  exists().where(Review.id == Escalation.review_id, contains(text, Review.ref)))
    found = _REF.fullmatch(text)
    if found is None:
        return in_refs
    by_id = Escalation.id == int(found.group(2))
    return by_id if found.group(1) else or_(by_id, in_refs)


def conditions(listing: Listing) -> list[ColumnElement[bool]]:
    """The WHERE of the list: each filter the listing asks for (on Escalation joined to Child)."""
    where: list[ColumnElement[bool]] = []
    state = listing.get("state")
    if state == "resolved":
        where.append(Escalation.status == "resolved")
    elif state:
        where.append(Escalation.status == "open")
        if state == "awaiting":
            where.append(~responded_at_stage())
        elif state == "answered":
            where.append(responded_at_stage())
    if listing.get("stage"):
        where.append(Escalation.stage == listing.get("stage"))
    if listing.get("category"):
        where.append(Escalation.category == listing.get("category"))
    if listing.get("iro"):
        where.append(func.lower(func.trim(Escalation.iro_email)) == listing.get("iro"))
    if listing.get("team"):
        where.append(Child.team == listing.get("team"))
    first, last = listing.day("from"), listing.day("to")
    if first:
        where.append(Escalation.raised_on >= first)
    if last:
        where.append(Escalation.raised_on <= last)
    if listing.get("q"):
        where.append(searched(listing.get("q")))
    return where


def order(ctx: WebContext, listing: Listing) -> list[Any]:
    """The ORDER BY: the sort asked for, then the id the same way (a stable order to page
    through); no response (or resolution) date sorts last whichever way."""
    keys = [s.key for s in ctx.rules.escalation.stages]
    stage = case({key: n for n, key in enumerate(keys)}, value=Escalation.stage,
                 else_=len(keys))
    key = {"due": Escalation.response_due_on, "raised": Escalation.raised_on,
           "resolved": Escalation.resolved_on, "ref": Escalation.id, "child": Child.ref,
           "stage": stage, "iro": func.lower(func.trim(Escalation.iro_email))}[listing.sort]
    way = desc if listing.descending else asc
    first = [key.is_(None)] if listing.sort in ("due", "resolved") else []
    return [*first, way(key), way(Escalation.id)]


def _query(ctx: WebContext, listing: Listing,
           scope: Sequence[ColumnElement[bool]]) -> Select[Escalation, Child]:
    return (select(Escalation, Child).join(Child, Child.id == Escalation.child_id)
            .where(*conditions(listing), *scope).order_by(*order(ctx, listing))
            .options(selectinload(Escalation.steps)))  # each row's days need its steps


def count(session: Session, listing: Listing, *scope: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(Escalation)
                          .join(Child, Child.id == Escalation.child_id)
                          .where(*conditions(listing), *scope)) or 0


def fetch(ctx: WebContext, session: Session, listing: Listing,
          scope: Sequence[ColumnElement[bool]], line: Callable[[Escalation, Child], T],
          start: int = 0, limit: int | None = None) -> list[T]:
    """The rows from ``start`` (``limit`` of them, or all), each made by ``line``."""
    query = _query(ctx, listing, scope).offset(start)
    if limit is not None:
        query = query.limit(limit)
    return [line(row, child) for row, child in session.execute(query)]


def list_rows(ctx: WebContext, today: dt.date) -> Callable[[Escalation, Child], ListRow]:
    from workers.escalation.views import list_row

    return lambda row, child: list_row(ctx.policy, row, child.ref, today)


def lines(ctx: WebContext, today: dt.date,
          linked: Callable[[Escalation, Child], bool]) -> Callable[[Escalation, Child], Line]:
    """A page's ``Line`` maker; ``linked``: may the reader open this one."""
    from workers.escalation.service import state_of

    make = list_rows(ctx, today)
    return lambda row, child: Line(make(row, child), row.iro_email.strip().lower(),
                                   state_of(row).responded_at_stage(), linked(row, child))


def page_of(ctx: WebContext, session: Session, listing: Listing,
            scope: Sequence[ColumnElement[bool]],
            line: Callable[[Escalation, Child], T]) -> Page[T]:
    """The page the listing asks for (one past the end: the last, as ``fetch_part`` does),
    with the total counted in SQL."""
    total = count(session, listing, *scope)
    listing = replace(listing, page=min(listing.page, max(1, math.ceil(total / listing.size))))
    return Page(fetch(ctx, session, listing, scope, line, listing.offset, listing.size),
                total, listing)


def part_of(ctx: WebContext, session: Session, listing: Listing,
            params: Mapping[str, str], name: str, scope: Sequence[ColumnElement[bool]],
            line: Callable[[Escalation, Child], T]) -> Part[T]:
    """One list of several on a page, paged by its own parameter ``name`` (``fetch_part``)."""
    return fetch_part(params, name, count(session, listing, *scope), lambda start, n: fetch(
        ctx, session, listing, scope, line, start, n))
