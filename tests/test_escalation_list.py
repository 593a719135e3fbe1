"""The escalation lists (issue 18 §1): every filter and sort done in SQL gives the rows the same
filter gives done in Python over every escalation (``list_row``, ``addressed_to``, the state
rules), page after page; the search box finds ESC-12 exactly and takes % and _ literally; a
manager other than the IRO manager never sees an open escalation at someone else's stage, through
any filter; a bad parameter is a 400 naming it; the pages draw it all."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from factories import make_child, make_review
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_client import DIRECTORY, RULES, STORES, TODAY, Browser, make_app, store_url
from web_seed import DEPUTY, GROUP, IRO, IRO_MANAGER, OTHER_IRO, PASSWORD

from workers.escalation.service import state_of
from workers.escalation.views import ListRow, list_row
from workers.store.models import Child, Escalation, Review
from workers.web import escalation_list as el
from workers.web.accounts import add_user
from workers.web.listing import Listing
from workers.web.manager_lists import addressed_to

IROS = [p.email for p in DIRECTORY.iros]
TEAMS = [t.key for t in DIRECTORY.teams]
STAGES = [s.key for s in RULES.escalation.stages]
CATEGORIES = [c.key for c in RULES.escalation.categories]
TEAM_MANAGER = DIRECTORY.teams[0].team_manager.email.lower()  # the informal stage's, north_lac
ODD, DECOY = "C-99%_1", "C-99X1Y"  # a reference holding LIKE's wildcards; one they would match


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    app, _ = make_app(tmp_path, database_url=store_url(request))
    _escalations(app)
    return app


def _escalations(app: Any) -> None:
    """Twenty escalations over five IROs and three teams, at five stages, raised on different
    days, some about a review, some answered at their stage, some answered then moved on (so
    awaiting again), some resolved."""
    ctx = app.state.web
    with ctx.sessions() as session:
        add_user(session, TEAM_MANAGER, "manager", PASSWORD, actor="test")
        # references of their own: the factories' counter runs on across tests, and a search
        # must find some of these and not others whatever ran before
        children = [make_child(session, ref=f"C-000E{n}", iro_email=IROS[n % 5],
                               team=TEAMS[n % 3])  # not IROS[5]
                    for n in range(8)]
        children += [make_child(session, ref=ODD, iro_email=IRO, team=TEAMS[0]),
                     make_child(session, ref=DECOY, iro_email=OTHER_IRO, team=TEAMS[1])]
        reviews = {c.ref: make_review(session, c, due_on=TODAY + dt.timedelta(days=30)).ref
                   for c in children}
        svc = ctx.escalations(session)
        for n in range(20):
            child = children[n % len(children)]
            row = svc.raise_(child.ref, concern="A concern", category=CATEGORIES[n % 7],
                             stage=STAGES[n % 5], iro_email=child.iro_email.lower(),
                             review_ref=reviews[child.ref] if n % 3 == 0 else None,
                             on=TODAY - dt.timedelta(days=2 * n))
            if n % 4 == 1:
                svc.respond(row.id, text="Looking into it", by=DEPUTY)
            if n in (2, 11, 17):  # informal stays, deputy to group, group to head of service
                svc.advance(row.id, by=child.iro_email.lower())
            if n % 6 == 5:
                svc.resolve(row.id, outcome="Done", by=IRO_MANAGER)
        session.commit()


@dataclass(frozen=True)
class Known:
    """One escalation as the rules see it, loaded row by row in Python."""

    row: ListRow
    team: str
    iro: str
    review_ref: str
    answered: bool
    addressed: frozenset[str]

    @property
    def id(self) -> int:
        return self.row.id


def _known(app: Any, session: Session) -> list[Known]:
    ctx = app.state.web
    reviews = {i: ref for i, ref in session.execute(select(Review.id, Review.ref))}
    return [Known(list_row(ctx.policy, e, c.ref, TODAY), c.team, e.iro_email.strip().lower(),
                  reviews.get(e.review_id, "") if e.review_id else "",
                  state_of(e).responded_at_stage(), frozenset(addressed_to(ctx, e, c)))
            for e, c in session.execute(select(Escalation, Child).join(
                Child, Child.id == Escalation.child_id))]


def _searched(k: Known, text: str) -> bool:
    in_refs = text.upper() in k.row.child.upper() or text.upper() in k.review_ref.upper()
    if re.fullmatch(r"ESC-?\d{1,9}", text, re.IGNORECASE):
        return k.id == int(re.sub(r"\D", "", text))
    if re.fullmatch(r"\d{1,9}", text):
        return k.id == int(text) or in_refs
    return in_refs


def _matches(k: Known, f: dict[str, str]) -> bool:
    r = k.row
    state = f.get("state", "")
    return ((not state or (r.status == "resolved") == (state == "resolved"))
            and (state != "awaiting" or not k.answered)
            and (state != "answered" or k.answered)
            and f.get("stage", r.stage) == r.stage
            and f.get("category", r.category) == r.category
            and f.get("iro", k.iro) == k.iro and f.get("team", k.team) == k.team
            and f.get("from", r.raised_on) <= r.raised_on <= f.get("to", r.raised_on)
            and ("q" not in f or _searched(k, f["q"])))


def _sorted(known: list[Known], sort: str, descending: bool) -> list[int]:
    """The rule's order: the key, then the id, the same way; no response (or resolution)
    date last."""
    if sort in ("due", "resolved"):
        day = ((lambda k: k.row.response_due_on) if sort == "due"
               else (lambda k: k.row.resolved_on))
        dated = sorted((k for k in known if day(k)), key=lambda k: (day(k), k.id),
                       reverse=descending)
        undated = sorted((k for k in known if not day(k)), key=lambda k: k.id,
                         reverse=descending)
        return [k.id for k in dated + undated]
    keys = {"raised": lambda k: k.row.raised_on, "ref": lambda k: k.id,
            "child": lambda k: k.row.child, "stage": lambda k: STAGES.index(k.row.stage),
            "iro": lambda k: k.iro}
    return [k.id for k in sorted(known, key=lambda k: (keys[sort](k), k.id),
                                 reverse=descending)]


def _walk(app: Any, session: Session, listing: Listing, *scope: Any) -> list[ListRow]:
    """Every page of ``listing`` at 4 a page (and one past the end: the last again)."""
    ctx = app.state.web
    as_row = el.list_rows(ctx, TODAY)
    first = el.page_of(ctx, session, replace(listing, size=4), scope, as_row)
    rows: list[ListRow] = []
    for number in range(1, first.pages + 1):
        page = el.page_of(ctx, session, replace(listing, size=4, page=number), scope, as_row)
        assert page.total == first.total and page.number == number
        assert len(page.rows) == min(4, page.total - 4 * (number - 1)) or not page.total
        rows += page.rows
    past = el.page_of(ctx, session, replace(listing, size=4, page=first.pages + 1), scope,
                      as_row)
    assert past.number == first.pages and past.rows == page.rows  # past the end: the last
    return rows


FILTERS: list[dict[str, str]] = [
    {}, *({"state": s} for s in el.STATES), *({"stage": s} for s in STAGES[:5]),
    {"category": CATEGORIES[0]}, {"category": CATEGORIES[3]},
    *({"iro": i} for i in IROS), *({"team": t} for t in TEAMS),
    {"from": (TODAY - dt.timedelta(days=20)).isoformat()},
    {"to": (TODAY - dt.timedelta(days=30)).isoformat()},
    {"from": (TODAY - dt.timedelta(days=16)).isoformat(),
     "to": (TODAY - dt.timedelta(days=6)).isoformat()},
    {"q": "c-000"}, {"q": "C-99"}, {"q": "%"}, {"q": "_"}, {"q": "%_1"}, {"q": "99_1"},
    {"q": "9X1"}, {"q": "R-"}, {"q": "ESC-"}, {"q": "nothing like it"},
    {"state": "open", "team": TEAMS[0], "q": "C-"}, {"state": "awaiting", "iro": IRO},
]
NOTHING = [{"iro": IROS[5]}, {"q": "99_1"}, {"q": "ESC-"}, {"q": "nothing like it"}]


def test_every_filter_and_sort_in_sql_equals_the_rule(site: Any) -> None:
    app = site
    with app.state.web.sessions() as session:
        known = _known(app, session)
        assert len(known) == 21  # the seed's and these
        # the data has every shape the filters tell apart
        assert {k.row.status for k in known} == {"open", "resolved"}
        assert {k.answered for k in known if k.row.status == "open"} == {True, False}
        assert any(k.review_ref for k in known) and len({k.row.raised_on for k in known}) > 15
        for filters in FILTERS:
            listing = el.escalation_listing(app.state.web, filters, people=True)
            wanted = [k for k in known if _matches(k, filters)]
            got = _walk(app, session, listing)
            # resolved ones have no response due: the latest resolved first
            latest = filters.get("state") == "resolved"
            assert [r.id for r in got] == _sorted(wanted, "resolved" if latest else "due",
                                                  latest), filters
            rule = {k.id: k.row for k in wanted}
            assert got == [rule[r.id] for r in got]  # each row as list_row makes it
        for sort in el.SORTS:
            for descending in (False, True):
                for filters in ({}, {"state": "open"}, {"q": "C-0"}):
                    listing = el.escalation_listing(
                        app.state.web, {**filters, "sort": sort,
                                        "dir": "desc" if descending else "asc"}, people=True)
                    wanted = [k for k in known if _matches(k, filters)]
                    assert [r.id for r in _walk(app, session, listing)] == _sorted(
                        wanted, sort, descending), (sort, descending, filters)
        # the filters are not vacuous: each of these finds some and leaves some out
        for filters in FILTERS[1:]:
            found = sum(_matches(k, filters) for k in known)
            assert found == 0 if filters in NOTHING else 0 < found < len(known), filters


def test_the_search_box_finds_an_escalation_by_its_reference_and_takes_wildcards_literally(
        site: Any) -> None:
    app = site
    ctx = app.state.web
    with ctx.sessions() as session:
        ids = sorted(session.scalars(select(Escalation.id)))
        one = ids[11]  # ESC-12 on a fresh store
        # a case system's number that holds the escalation's
        child = make_child(session, ref=f"{one}0", iro_email=IRO, team=TEAMS[0])
        numbered = ctx.escalations(session).raise_(child.ref, concern="A concern",
                                                   category="other", iro_email=IRO).id
        session.commit()
        known = _known(app, session)

        def found(text: str) -> list[int]:
            listing = el.escalation_listing(ctx, {"q": text, "sort": "ref"}, people=True)
            return [r.id for r in el.page_of(ctx, session, listing, (),
                                             el.list_rows(ctx, TODAY)).rows]

        for text in (f"ESC-{one}", f"esc-{one}", f"Esc{one}", f" ESC-{one} "):
            assert found(text) == [one], text
        # bare digits: the escalation, and any reference that holds them (case systems number
        # children), never another escalation by its own number
        bare = found(str(one))
        assert one in bare and numbered in bare and all(
            k.id == one or str(one) in k.row.child + k.review_ref
            for k in known if k.id in bare)
        assert found(f"ESC-{numbered + 1}") == []
        assert found("ESC-99999999999") == []  # too long for an id: a text search, no error
        odd = [k.id for k in known if k.row.child == ODD]
        decoy = [k.id for k in known if k.row.child == DECOY]
        assert odd and decoy
        assert found("%") == found("_") == found("%_1") == found("99%_") == odd
        assert found("99_1") == [] and found("9%1") == [] and found("9X1") == decoy
        about_a_review = next(k for k in known if k.review_ref)
        assert about_a_review.id in found(about_a_review.review_ref.lower())


def _table(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0]


def _listed(b: Browser, path: str) -> tuple[list[int], set[int], int]:
    """The escalations a list page shows (following its pages), those it links to, its total."""
    ids: list[int] = []
    links: set[int] = set()
    html = b.get(path).text
    total = int(re.search(r"Showing \d+–\d+ of (\d+)", html).group(1)) \
        if "Showing " in html else 0  # type: ignore[union-attr]
    for _ in range(10):
        if "<tbody>" not in html:
            break
        rows = _table(html)
        ids += [int(n) for n in re.findall(r"ESC-(\d+)", rows)]
        links |= {int(n) for n in re.findall(r'href="/manager/escalations/(\d+)"', rows)}
        found = re.search(r'<a href="(\?[^"]*)" rel="next">', html)
        if not found:
            break
        html = b.get(path.split("?")[0] + found.group(1).replace("&amp;", "&")).text
    return ids, links, total


@pytest.mark.parametrize("who", [DEPUTY, GROUP, TEAM_MANAGER, IRO_MANAGER])
def test_a_manager_sees_what_they_may_through_every_filter(site: Any, who: str) -> None:
    from urllib.parse import urlencode

    app = site
    with app.state.web.sessions() as session:
        known = _known(app, session)
    everyone = who == IRO_MANAGER

    def may_see(k: Known) -> bool:
        return everyone or k.row.status == "resolved" or who in k.addressed

    def may_open(k: Known) -> bool:
        return everyone or (k.row.status == "open" and who in k.addressed)

    b = Browser(app)
    b.sign_in(who)
    assert sum(may_see(k) for k in known) > sum(k.row.status == "resolved" for k in known) \
        or everyone  # some open ones at their stage, so the scope is tested both ways
    for filters in FILTERS:
        for sort in ("due", "stage") if filters else el.SORTS:
            ids, links, total = _listed(b, "/manager/escalations?" + urlencode(
                {**filters, "sort": sort, "size": 25}))
            wanted = [k for k in known if _matches(k, filters) and may_see(k)]
            assert ids == _sorted(wanted, sort, False), (who, filters, sort)
            assert total == len(wanted)
            assert links == {k.id for k in wanted if may_open(k)}
            for k in known:  # never an open one at someone else's stage
                if k.id in ids and k.row.status == "open" and not everyone:
                    assert who in k.addressed


def test_the_managers_list_page(site: Any) -> None:
    app = site
    b = Browser(app)
    b.sign_in(IRO_MANAGER)
    home = b.get("/manager").text
    assert '<a href="/manager/escalations">Find any escalation…</a>' in home
    assert '<a href="/manager/escalations">Escalations</a>' in home  # the navigation
    assert 'href="/manager/escalations?state=resolved&amp;sort=raised&amp;dir=desc"' in home
    page = b.get("/manager/escalations?state=open&sort=iro&dir=desc").text
    assert "<h1>Escalations</h1>" in page
    assert '<label for="q">Child, review or escalation reference</label>' in page
    assert '<option value="open" selected>' in page
    assert 'aria-current="page">Escalations<' in page
    for label in ("Ref", "Child", "Stage", "Raised", "Response due", "IRO"):
        assert f">{label}" in page.split("<thead>")[1].split("</thead>")[0]
    assert 'aria-sort="descending"><a href="?state=open&amp;sort=iro&amp;dir=asc">IRO' in page
    names = re.findall(r"<td>([A-Z][a-z]+ [A-Z][a-z]+)</td>\s*</tr>", _table(page))
    assert names and names == sorted(names, key=lambda n: next(
        p.email for p in DIRECTORY.iros if p.name == n), reverse=True)
    assert "Formal stage 1 - deputy manager" in _table(page)  # titles, not keys
    # a page past the end is the last page
    with app.state.web.sessions() as session:
        total = len(_known(app, session))
    far = b.get("/manager/escalations?size=25&page=9").text
    assert f"Showing 1–{total} of {total}<" in far and _table(far).count("<tr") == total

    deputy = Browser(app)
    deputy.sign_in(DEPUTY)
    assert '<a href="/manager/escalations">Find an escalation…</a>' in deputy.get(
        "/manager").text
    none = deputy.get("/manager/escalations?q=no+such+child").text
    assert "Nothing matches" in none and "<tbody>" not in none


@pytest.mark.parametrize(("query", "named"), [
    ("state=lost", "state"), ("sort=shoe-size", "sort"), ("from=2026-13-01", "from"),
    ("to=yesterday", "to"), ("stage=nope", "stage"), ("category=x", "category"),
    ("iro=someone@example.com", "iro"), ("team=east", "team"), ("dir=up", "dir"),
    ("size=7", "size"), ("page=0", "page")])
def test_a_bad_parameter_is_a_400_naming_it(tmp_path: Path, query: str, named: str) -> None:
    app, _ = make_app(tmp_path)
    manager, iro = Browser(app), Browser(app)
    manager.sign_in(DEPUTY)
    iro.sign_in(IRO)
    for b, path in ((manager, "/manager/escalations"), (iro, "/iro/escalations")):
        if path.startswith("/iro") and named in ("iro", "team"):
            continue  # no such filter on an IRO's own list: ignored
        answer = b.get(f"{path}?{query}")
        assert answer.status_code == 400, (path, query)
        assert f"{named}: expected" in answer.text, (path, query)


def test_the_iros_own_list_filtered_and_sorted(site: Any) -> None:
    app = site
    with app.state.web.sessions() as session:
        known = [k for k in _known(app, session) if k.iro == IRO]
        others = [k for k in _known(app, session) if k.iro != IRO]
    b = Browser(app)
    b.sign_in(IRO)

    def sections(path: str) -> tuple[list[int] | None, list[int] | None]:
        html = b.get(path).text
        assert "Raise an escalation" in html  # the form stays
        shown: list[list[int] | None] = []
        for anchor in ("open", "resolved"):
            if f'<h2 id="{anchor}">' not in html:
                shown.append(None)
                continue
            part = html.split(f'<h2 id="{anchor}">')[1].split("<h2")[0]
            shown.append([int(n) for n in re.findall(r'<a href="/iro/escalations/(\d+)">', part)])
        return shown[0], shown[1]

    assert {k.row.status for k in known} == {"open", "resolved"}
    for filters in (f for f in FILTERS if "iro" not in f and "team" not in f):
        for sort in ("due", "child") if filters else el.SORTS:
            from urllib.parse import urlencode

            opened, resolved = sections("/iro/escalations?" + urlencode(
                {**filters, "sort": sort, "dir": "desc"}))
            wanted = [k for k in known if _matches(k, filters)]
            state = filters.get("state", "")
            if state == "resolved":
                assert opened is None
            else:
                assert opened == _sorted([k for k in wanted if k.row.status == "open"], sort,
                                         True), (filters, sort)
            if state in ("open", "awaiting", "answered"):
                assert resolved is None
            else:
                assert resolved == _sorted([k for k in wanted if k.row.status == "resolved"],
                                           sort, True), (filters, sort)
    # another IRO's escalation is not found by its reference
    assert sections(f"/iro/escalations?q=ESC-{others[0].id}") == ([], [])
    # a refused raise is drawn again with what was typed, the filters' defaults beside it
    b.get("/iro/escalations")
    refused = b.post("/iro/escalations", {"child_ref": known[0].row.child, "category": "nope",
                                          "concern": "Kept as typed"})
    assert refused.status_code == 400 and ">Kept as typed<" in refused.text
    assert '<form method="get" action="/iro/escalations"' in refused.text
