"""The caseload, the overdue lists and the managers' open escalations, paged in SQL (issue 18 §1),
give what the Python rules give, on SQLite and PostgreSQL: every row, in order, the totals and
every page boundary; and each child's stored next review equals the rule's answer after every
kind of change to what it is worked out from.

The rules' answers: ``deadline_queries.due_items`` and ``next_review_of`` (the deadline rules),
``reviews.caseload.caseloads`` and ``web.manager_lists.addressed_to``."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import make_child, make_review
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_client import CAL, DIRECTORY, RULES, STORES, TODAY, Browser, make_app, store_url
from web_seed import DEPUTY, GROUP, IRO, IRO_MANAGER, OTHER_IRO

from workers.config.offsets import parse_offset
from workers.reviews.caseload import caseloads
from workers.store import due_sql
from workers.store.deadline_queries import (
    REVIEW_DUE,
    care_period_starts,
    due_items,
    next_review_of,
)
from workers.store.models import CarePeriod, Child, Deadline, Escalation, Review
from workers.store.next_review import fingerprint, refresh
from workers.web.manager_lists import addressed_to, addressed_to_sql, responded_at_stage

IROS = [p.email for p in DIRECTORY.iros]
TEAMS = [t.key for t in DIRECTORY.teams]
TIMESCALES = RULES.review_timescales
MANAGERS = [DEPUTY, GROUP, IRO_MANAGER, IRO, OTHER_IRO,
            *(t.team_manager.email for t in DIRECTORY.teams)]


@pytest.fixture(params=STORES)
def app_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Any]:
    return make_app(tmp_path, database_url=store_url(request))


def _deadline(session: Session, kind: str, due: dt.date, *, review: Review | None = None,
              escalation_id: int | None = None, met: bool = False) -> None:
    session.add(Deadline(key=f"test/{kind}/{review.ref if review else escalation_id}/{due}",
                         kind=kind, review_id=review.id if review else None,
                         escalation_id=escalation_id, started_on=due - dt.timedelta(days=20),
                         due_on=due, statutory=kind == REVIEW_DUE,
                         met_on=due if met else None))


def _caseload_of_many(sessions: sessionmaker[Session]) -> None:
    """Sixty children in every shape the rules treat differently, across five IROs."""
    with sessions() as session:
        for n in range(60):
            iro = IROS[n % 5]
            child = make_child(
                session, iro_email=iro.upper() if n == 7 else iro, team=TEAMS[n % 3],
                given_name=f"G{n}", family_name=f"F{n}",
                looked_after_since=TODAY - dt.timedelta(days=30 + 9 * n))
            shape = n % 7
            day = TODAY + dt.timedelta(days=(n * 13) % 90 - 45)  # half of them past
            if shape == 1:  # planned
                r = make_review(session, child, due_on=day, sequence=2,
                                scheduled_at=None if n % 2 else dt.datetime(
                                    2027, 1, 5, 10, tzinfo=dt.UTC))
                _deadline(session, "mailout", day - dt.timedelta(days=21), review=r)
                _deadline(session, REVIEW_DUE, day, review=r)  # the child's next: listed once
            elif shape == 2:  # held, nothing planned: the rule's date; write-ups open
                r = make_review(session, child, status="held", sequence=1,
                                held_on=day - dt.timedelta(days=60), due_on=day)
                _deadline(session, "decisions", day - dt.timedelta(days=50), review=r)
                _deadline(session, "record", day - dt.timedelta(days=40), review=r,
                          met=n % 3 == 0)
                _deadline(session, "midway", day + dt.timedelta(days=20), review=r)
            elif shape == 3:  # held in an earlier period of care: the rule starts again
                make_review(session, child, status="held", sequence=2,
                            held_on=TODAY - dt.timedelta(days=300), due_on=TODAY)
                session.add(CarePeriod(child_id=child.id,
                                       started_on=TODAY - dt.timedelta(days=40 + n)))
            elif shape == 4:  # another IRO's planned review, two planned, a cancelled one
                other = IROS[(n + 1) % 5]
                make_review(session, child, due_on=day, iro_email=other)
                later = make_review(session, child, due_on=day + dt.timedelta(days=100),
                                    sequence=3)
                _deadline(session, REVIEW_DUE, later.due_on, review=later)
                gone = make_review(session, child, status="cancelled", due_on=day)
                _deadline(session, "decisions", day, review=gone)
            elif shape == 5 and n % 2:  # ceased: nothing of it listed
                child.ceased_on = TODAY - dt.timedelta(days=5)
                r = make_review(session, child, due_on=day)
                _deadline(session, "record", day, review=r)
            elif shape == 6:  # the same date as others: ties broken by child and kind
                r = make_review(session, child, status="held", sequence=3,
                                held_on=TODAY - dt.timedelta(days=200), due_on=TODAY)
                _deadline(session, "decisions", TODAY - dt.timedelta(days=3), review=r)
                _deadline(session, "record", TODAY - dt.timedelta(days=3), review=r)
        session.commit()


def _escalations(app: Any, sessions: sessionmaker[Session]) -> None:
    """Open escalations at several stages, some answered there, one resolved, with a response
    timescale or none (informal)."""
    ctx = app.state.web
    with sessions() as session:
        svc = ctx.escalations(session)
        children = list(session.scalars(select(Child).where(Child.ceased_on.is_(None))
                                        .order_by(Child.id).limit(12)))
        for n, child in enumerate(children):
            row = svc.raise_(child.ref, concern="A concern", category="pep_not_recorded",
                             stage=["informal", "deputy_manager", "group_manager"][n % 3],
                             iro_email=child.iro_email.lower())
            if n % 4 == 1:
                svc.respond(row.id, text="Looking into it", by=DEPUTY)
            if n % 5 == 2:
                svc.advance(row.id, by=child.iro_email.lower())
            if n == 11:
                svc.resolve(row.id, outcome="Done", by=IRO_MANAGER)
        session.commit()


def _key(item: Any) -> tuple[Any, ...]:
    return (item.due_on, item.child_ref, item.kind, item.review_ref or "",
            item.escalation_id or 0)


def _sql_items(session: Session, **filters: Any) -> list[Any]:
    rows = session.execute(due_sql.ordered(due_sql.items_query(today=TODAY, **filters)))
    return due_sql.as_items(rows.all(), CAL, TODAY)


def _pages(total: int, size: int, fetch: Any) -> Iterator[list[Any]]:
    for page in range(math.ceil(total / size) + 1):  # one past the end: empty
        yield fetch(page * size, size)


def test_lists_in_sql_equal_the_rules(app_store: tuple[Any, Any]) -> None:
    app, _ = app_store
    sessions = app.state.web.sessions
    _caseload_of_many(sessions)
    _escalations(app, sessions)
    with sessions() as session:
        assert refresh(session, CAL, TIMESCALES) > 50
        session.commit()
        assert refresh(session, CAL, TIMESCALES) == 0  # nothing changed: nothing written

        rule = due_items(session, CAL, TIMESCALES, today=TODAY)
        sql = _sql_items(session)
        assert Counter(sql) == Counter(rule) and len(rule) > 100
        assert [_key(i) for i in sql] == sorted(_key(i) for i in rule)
        kinds = Counter(i.kind for i in sql)
        assert {REVIEW_DUE, "decisions", "record", "mailout", "midway",
                "escalation_response"} <= set(kinds)
        # a mail-out waits while its review has no meeting: both kinds are here
        assert {i.planned for i in sql if i.kind == "mailout"} == {True, False}

        # the managers' overdue lists: totals, order and every page boundary (7 a page)
        for kinds_wanted in (("decisions", "record"), (REVIEW_DUE,)):
            expected = sorted((i for i in rule if i.overdue and i.kind in kinds_wanted),
                              key=_key)
            late = due_sql.items_query(today=TODAY, overdue_only=True, kinds=kinds_wanted)
            total = due_sql.count(session, late)
            assert total == len(expected) > 7
            pages = list(_pages(total, 7, lambda start, n, late=late: due_sql.as_items(
                session.execute(due_sql.ordered(late).offset(start).limit(n)).all(),
                CAL, TODAY)))
            assert pages[-1] == [] and all(len(p) == 7 for p in pages[:-2])
            assert [_key(i) for p in pages for i in p] == [_key(i) for i in expected]

        # filtered by IRO or team, sorted by child or IRO either way: as Python sorts them
        teams = {c.ref: c.team for c in session.scalars(select(Child))}
        sorts = {"due": lambda i: (i.due_on,), "child": lambda i: (i.child_ref,),
                 "iro": lambda i: (i.iro_email.lower(),)}
        for iro, team, sort, descending in ((IRO, None, "due", False),
                                            (None, "south_lac", "child", True),
                                            (OTHER_IRO, "north_lac", "iro", False),
                                            (None, None, "iro", True)):
            late = due_sql.items_query(today=TODAY, overdue_only=True, kinds=("decisions",
                                 "record"), iro_email=iro, team=team)
            got = due_sql.as_items(session.execute(
                due_sql.ordered(late, sort, descending)).all(), CAL, TODAY)
            wanted = [i for i in rule if i.overdue and i.kind in ("decisions", "record")
                      and (iro is None or i.iro_email.lower() == iro)
                      and (team is None or teams[i.child_ref] == team)]
            first = sorted(wanted, key=_key)
            first.sort(key=sorts[sort], reverse=descending)  # stable: ties in the rules' order
            assert [_key(i) for i in got] == [_key(i) for i in first] and got, (iro, team)
            assert due_sql.count(session, late) == len(wanted)

        # searched by a child's or the item's review's reference (any case, % and _ literal),
        # and by the date it was due: as Python filters them
        reviews_of: dict[tuple[str, str], list[str]] = {}  # (IRO, child): its reviews' refs
        for child_ref, review_ref, chair in session.execute(
                select(Child.ref, Review.ref, Review.iro_email).join(
                    Review, Review.child_id == Child.id)):
            reviews_of.setdefault((chair.strip().lower(), child_ref), []).append(review_ref)
        assert any(ref.startswith("C-") for _, ref in reviews_of)
        late_write_up = next(i for i in rule if i.overdue and i.kind == "record")
        searches = (late_write_up.review_ref.lower(), late_write_up.child_ref, "0001", "C-",
                    "R-", "%", "_", "Z")
        first_day, last_day = TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=5)
        for q in searches:
            for days in ((None, None), (first_day, None), (first_day, last_day)):
                for kinds_wanted in (("decisions", "record"), (REVIEW_DUE,)):
                    late = due_sql.items_query(today=TODAY, overdue_only=True,
                                               kinds=kinds_wanted, search=q,
                                               due_from=days[0], due_to=days[1])
                    got = due_sql.as_items(session.execute(due_sql.ordered(late)).all(), CAL,
                                           TODAY)
                    wanted = sorted((
                        i for i in rule if i.overdue and i.kind in kinds_wanted
                        and (q.upper() in i.child_ref or q.upper() in (i.review_ref or ""))
                        and (days[0] is None or i.due_on >= days[0])
                        and (days[1] is None or i.due_on <= days[1])), key=_key)
                    assert [_key(i) for i in got] == [_key(i) for i in wanted], (q, days)
                    assert due_sql.count(session, late) == len(wanted)
        found = due_sql.items_query(today=TODAY, overdue_only=True, kinds=("record",),
                                    search=late_write_up.review_ref.lower())
        assert late_write_up.review_ref in {i.review_ref for i in due_sql.as_items(
            session.execute(due_sql.ordered(found)).all(), CAL, TODAY)}
        assert due_sql.count(session, due_sql.items_query(search="%")) == 0

        # each IRO's overdue counts in the managers' table
        counted: Counter[tuple[str, bool]] = Counter(
            (i.iro_email, i.kind == REVIEW_DUE) for i in rule if i.overdue)
        assert due_sql.overdue_by_iro(session, TODAY) == dict(counted)

        # each IRO's caseload: the lines, their order, the total and the pages (4 a page)
        others_tried = 0
        for iro in IROS:
            loads = caseloads(due_items(session, CAL, TIMESCALES, today=TODAY, iro_email=iro))
            children = loads[0].children if loads else []
            total, ids = due_sql.caseload_children(session, iro, 0, 1000)
            assert total == len(children) == len(ids)
            refs = {i: ref for i, ref in session.execute(select(Child.id, Child.ref))}
            assert [refs[i] for i in ids] == [c.child_ref for c in children]
            paged = [i for p in _pages(total, 4, lambda start, n, iro=iro: (
                due_sql.caseload_children(session, iro, start, n)[1])) for i in p]
            assert paged == ids
            overdue = due_sql.count(session, due_sql.items_query(
                today=TODAY, overdue_only=True, iro_email=iro.upper()))
            assert overdue == sum(len(c.overdue) for c in children)
            late = due_sql.caseload_lines(iro, overdue_on=TODAY)  # only those with overdue
            assert [refs[i] for i in due_sql.page_of_lines(session, late, 0, 1000)] == [
                c.child_ref for c in children if c.overdue]
            # searched by the child's reference or any of its reviews' (a past one too),
            # or by when the next review falls
            first_ref = children[0].child_ref if children else "Z"
            last_ref = children[-1].child_ref if children else "Z"
            # a child with another IRO's review: its reference does not find the child
            others = [r for (chair, ref), refs in reviews_of.items() if chair != iro
                      and ref in {c.child_ref for c in children} for r in refs]
            others_tried += len(others[:2])
            for q, days in (("C-", (None, None)), ("r-", (None, None)),
                            (first_ref.lower(), (None, None)),
                            (reviews_of.get((iro, last_ref), ["Z"])[0], (None, None)),
                            *((other, (None, None)) for other in others[:2]),
                            ("", (TODAY, None)), ("", (TODAY - dt.timedelta(days=20), TODAY)),
                            ("0", (None, TODAY)), ("%", (None, None))):
                lines = due_sql.caseload_lines(iro, search=q or None, due_from=days[0],
                                               due_to=days[1])
                found_refs = [refs[i] for i in due_sql.page_of_lines(session, lines, 0, 1000)]
                assert found_refs == [
                    c.child_ref for c in children
                    if (q.upper() in c.child_ref
                        or any(q.upper() in r for r in reviews_of.get((iro, c.child_ref), [])))
                    and (days[0] is None or (c.next_review_due is not None
                                             and c.next_review_due >= days[0]))
                    and (days[1] is None or (c.next_review_due is not None
                                             and c.next_review_due <= days[1]))], (iro, q, days)
                assert due_sql.count_lines(session, lines) == len(found_refs)
            by_ref = due_sql.page_of_lines(session, due_sql.caseload_lines(iro), 0, 1000,
                                           by_child=True, descending=True)
            assert [refs[i] for i in by_ref] == sorted((c.child_ref for c in children),
                                                       reverse=True)

        assert others_tried  # another IRO's review was searched for, and found nothing of it

        # the managers' open escalations: addressed to whom, answered at the stage or not
        ctx = app.state.web
        escalations = list(session.execute(
            select(Escalation, Child).join(Child, Child.id == Escalation.child_id)
            .where(Escalation.status == "open")))
        assert len(escalations) == 12  # the seed's, and 11 of the 12 raised here
        answered = set(session.scalars(select(Escalation.id).where(responded_at_stage())))
        assert answered == {e.id for e, _ in escalations
                            if any(s.action == "responded" and s.stage == e.stage
                                   for s in e.steps)} != set()
        for email in MANAGERS:
            sql_ids = set(session.scalars(
                select(Escalation.id).join(Child, Child.id == Escalation.child_id)
                .where(Escalation.status == "open", addressed_to_sql(ctx, email))))
            rule_ids = {e.id for e, c in escalations if email in addressed_to(ctx, e, c)}
            assert sql_ids == rule_ids, email
        assert any(set(session.scalars(select(Escalation.id).join(Child).where(
            addressed_to_sql(ctx, email)))) for email in (DEPUTY, GROUP))


def test_the_pages_show_the_rules_totals_and_pages(app_store: tuple[Any, Any]) -> None:
    app, _ = app_store
    sessions = app.state.web.sessions
    _caseload_of_many(sessions)
    with sessions() as session:
        [load] = caseloads(due_items(session, CAL, TIMESCALES, today=TODAY, iro_email=IRO))
        late_reviews = [i for i in due_items(session, CAL, TIMESCALES, today=TODAY,
                                             overdue_only=True) if i.kind == REVIEW_DUE]
    b = Browser(app)
    b.sign_in(IRO)
    page = b.get("/iro").text
    n = len(load.children)
    assert f"{n} children · {load.overdue_count} overdue items" in page
    lines = page.split('id="children"')[1]
    assert f"Showing 1–{n} of {n}<" in lines
    shown = [ref for ref in (c.child_ref for c in load.children) if f">{ref}" in lines
             or f"{ref} " in lines]
    assert shown == [c.child_ref for c in load.children]
    assert [lines.index(ref) for ref in shown] == sorted(lines.index(ref) for ref in shown)
    late = [c.child_ref for c in load.children if c.overdue]
    lines = b.get("/iro?show=overdue&sort=child&dir=desc").text.split('id="children"')[1]
    assert f"Showing 1–{len(late)} of {len(late)}<" in lines and late
    assert [lines.index(ref) for ref in sorted(late, reverse=True)] == sorted(
        lines.index(ref) for ref in late)
    assert b.get("/iro?show=everything").status_code == 400
    # a child found by one of its reviews' references, typed in lower case; nothing else shown
    wanted = next(c for c in load.children if c.next_review_ref)
    lines = b.get(f"/iro?q={wanted.next_review_ref.lower()}").text.split('id="children"')[1]
    assert "Showing 1–1 of 1<" in lines and wanted.child_ref in lines
    assert not [c.child_ref for c in load.children
                if c.child_ref != wanted.child_ref and c.child_ref in lines]
    assert f'value="{wanted.next_review_ref.lower()}"' in lines  # the box keeps what was typed
    assert "No child on your caseload matches" in b.get("/iro?q=NOBODY").text
    page = b.get(f"/iro?from={TODAY}&to={TODAY + dt.timedelta(days=30)}").text
    soon = [c.child_ref for c in load.children if c.next_review_due
            and TODAY <= c.next_review_due <= TODAY + dt.timedelta(days=30)]
    assert f"of {len(soon)}<" in page and soon
    assert b.get("/iro?from=31/12/2026").status_code == 400

    b = Browser(app)
    b.sign_in(DEPUTY)
    page = b.get("/manager").text
    reviews = page.split("Reviews past their statutory date")[1].split("<h2")[0]
    total = len(late_reviews)
    assert f"Showing 1–{min(total, 50)} of {total}<" in reviews
    expected = [i.child_ref for i in sorted(late_reviews, key=_key)[:50]]
    assert [reviews.index(ref) for ref in expected] == sorted(
        reviews.index(ref) for ref in expected)
    # one IRO's, the latest child first; the pages' links keep the filter and the sort
    mine = sorted((i for i in late_reviews if i.iro_email.lower() == OTHER_IRO), key=_key)
    page = b.get(f"/manager?iro={OTHER_IRO}&sort=child&dir=desc").text
    reviews = page.split("Reviews past their statutory date")[1].split("<h2")[0]
    assert f"Showing 1–{len(mine)} of {len(mine)}<" in reviews and mine
    refs = sorted({i.child_ref for i in mine}, reverse=True)
    assert [reviews.index(ref) for ref in refs] == sorted(reviews.index(ref) for ref in refs)
    assert 'aria-sort="descending"' in reviews
    # one child's, found by its reference; the date it was due
    one = sorted(late_reviews, key=_key)[0]
    reviews = b.get(f"/manager?q={one.child_ref}").text.split(
        "Reviews past their statutory date")[1].split("<h2")[0]
    assert "Showing 1–1 of 1<" in reviews and one.child_ref in reviews
    since = TODAY - dt.timedelta(days=10)
    recent = [i for i in late_reviews if i.due_on >= since]
    reviews = b.get(f"/manager?from={since}").text.split(
        "Reviews past their statutory date")[1].split("<h2")[0]
    assert f"of {len(recent)}<" in reviews or (not recent and "filters chosen" in reviews)
    assert "for the filters chosen" in b.get("/manager?q=NOBODY").text
    assert b.get("/manager?to=soon").status_code == 400
    assert b.get("/manager?sort=shoe-size").status_code == 400
    assert b.get("/manager?iro=someone@example.com").status_code == 400


def _all_equal_the_rule(session: Session) -> None:
    starts = care_period_starts(session)
    for child in session.scalars(select(Child).where(Child.ceased_on.is_(None))):
        due, review = next_review_of(child, CAL, TIMESCALES, starts.get(child.id))
        assert (child.next_review_due, child.next_review_id) == (
            due, review.id if review else None), child.ref


@pytest.mark.parametrize("store", STORES, indirect=False)
def test_stored_next_review_equals_the_rule_after_each_change(
        store: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from factories import postgres_store, sqlite_store

    sessions = (sqlite_store(tmp_path) if store == "sqlite"
                else postgres_store(request.getfixturevalue("pg_database")))
    with sessions() as session:
        child = make_child(session, looked_after_since=TODAY - dt.timedelta(days=10))
        other = make_child(session)
        session.commit()
        child_id = child.id

    def change(what: Any) -> None:
        with sessions() as session:
            target = session.get(Child, child_id)
            assert target is not None
            refresh(session, CAL, TIMESCALES)
            session.commit()
            basis = fingerprint(CAL, TIMESCALES)
            what(session, target)
            session.commit()
            session.expire_all()
            target = session.get(Child, child_id)
            assert target is not None and target.due_basis in (None, basis)
            stale = target.due_basis is None
            refresh(session, CAL, TIMESCALES)
            session.commit()
            session.expire_all()
            _all_equal_the_rule(session)
            changes.append(stale)

    changes: list[bool] = []
    review: dict[str, int] = {}

    def plan(session: Session, c: Child) -> None:
        review["id"] = make_review(session, c, due_on=TODAY + dt.timedelta(days=30)).id

    def redate(session: Session, c: Child) -> None:
        r = session.get(Review, review["id"])
        assert r is not None
        r.due_on = TODAY + dt.timedelta(days=5)

    def hold(session: Session, c: Child) -> None:
        r = session.get(Review, review["id"])
        assert r is not None
        r.status, r.held_on, r.sequence = "held", TODAY - dt.timedelta(days=1), 1

    def renumber(session: Session, c: Child) -> None:
        r = session.get(Review, review["id"])
        assert r is not None
        r.sequence = 2

    def new_period(session: Session, c: Child) -> None:
        session.add(CarePeriod(child_id=c.id, started_on=TODAY))

    def looked_after(session: Session, c: Child) -> None:
        c.looked_after_since = TODAY - dt.timedelta(days=2)

    def plan_and_cancel(session: Session, c: Child) -> None:
        r = make_review(session, c, due_on=TODAY + dt.timedelta(days=3))
        session.flush()
        r.status = "cancelled"

    def delete_review(session: Session, c: Child) -> None:
        r = session.get(Review, review["id"])
        assert r is not None
        session.delete(r)

    def move_review(session: Session, c: Child) -> None:  # to another child
        r = make_review(session, c, due_on=TODAY + dt.timedelta(days=9))
        session.flush()
        r.child_id = other.id

    def unrelated(session: Session, c: Child) -> None:  # not an input: stays current
        c.placement = "Elsewhere"

    for step in (plan, redate, hold, renumber, new_period, looked_after, plan_and_cancel,
                 move_review, unrelated):
        change(step)
    assert changes == [True] * 8 + [False]
    with sessions() as session:  # a deleted review (its deadlines first) moves it too
        session.execute(Deadline.__table__.delete())
        session.commit()
    change(delete_review)
    assert changes[-1] is True

    # other rules (another timescale): every date worked out again, and back
    other_rules = TIMESCALES.model_copy(update={
        "first": parse_offset("30 working days after looked_after")})
    with sessions() as session:
        assert refresh(session, CAL, other_rules) >= 2
        session.commit()
        starts = care_period_starts(session)
        for c in session.scalars(select(Child).where(Child.ceased_on.is_(None))):
            due, _ = next_review_of(c, CAL, other_rules, starts.get(c.id))
            assert c.next_review_due == due
    with sessions() as session:
        assert refresh(session, CAL, TIMESCALES) >= 2
        session.commit()
        _all_equal_the_rule(session)


def test_the_upgrade_and_the_scheduler_work_the_dates_out_before_any_page(
        tmp_path: Path) -> None:
    # a page that finds dates to work out writes them on a GET (2 s at 10,000 children once): the
    # upgrade does it for the stored children, and the scheduler's job for every later change
    from factories import sqlite_store, sqlite_url
    from mailout_support import CONFIG
    from test_config_cli import run_iro

    from workers.queue.scheduler import JobContext
    from workers.reviews.next_review_job import make_job

    sessions = sqlite_store(tmp_path)
    with sessions() as session:
        for n in range(3):
            make_child(session, looked_after_since=TODAY - dt.timedelta(days=10 * n))
        session.commit()
    done = run_iro(tmp_path, "db", "upgrade", IRO_DATABASE_URL=sqlite_url(tmp_path),
                   IRO_CONFIG_DIR=str(CONFIG))
    assert done.returncode == 0, done.stderr
    assert "next review dates worked out for 3 children" in done.stdout
    with sessions() as session:
        assert session.scalars(select(Child).where(Child.due_basis.is_(None))).all() == []
        child = session.scalars(select(Child)).first()
        assert child is not None
        make_review(session, child, status="held", held_on=TODAY, due_on=TODAY)
        session.commit()
    job = make_job(lambda: (CAL, TIMESCALES))
    now = dt.datetime.combine(TODAY, dt.time(12), dt.UTC)
    assert job.run(JobContext(sessions, lambda ids: None, now, 20.0, 30.0, False)) == 1
    with sessions() as session:
        _all_equal_the_rule(session)
    assert job.run(JobContext(sessions, lambda ids: None, now, 20.0, 30.0, False)) == 0
