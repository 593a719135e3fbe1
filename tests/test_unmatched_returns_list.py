"""The unmatched returns list (issue 18 §1) on both stores: every filter (state, reason, received
London days, the search box) and every sort, either way, checked against the same filter done in
Python over all the rows, walking every page; a bad parameter is a 400 naming it; "Dealt with"
brings the officer back to the list as they had it filtered; `iro returns unmatched` takes the
same filters."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from factories import sqlite_store
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_returns_cli import iro
from web_client import STORES, Browser, make_app, store_url
from web_seed import SUPPORT

from workers.core.clock import LONDON
from workers.errors import BadInputError
from workers.returns import unmatched
from workers.returns.inbox import InboxMessage
from workers.returns.unmatched import REASONS, SORTS, Wanted
from workers.store.returns_models import UnmatchedMessage

COUNT = 30
# distinct first letters: the same order under any collation; "_" and "%" to be taken literally
DOMAINS = ("example.org", "parents.example.net", "school_x.example.com", "gmail.example")
START = dt.datetime(2026, 10, 20, 22, 30, tzinfo=dt.UTC)  # British Summer Time ends 25 Oct
BSO = "bso@council.example.gov.uk"
MESSAGE_ID = re.compile(r'<td class="why message-id"><code>([^<]*)</code></td>')


def _received(n: int) -> dt.datetime | None:
    if n == COUNT - 1:
        return None  # the server gave no time
    if n == 7:
        return _received(6)  # a tie, broken by id
    if n in (4, 5):  # either side of midnight in London on the 24th (in summer time)
        return dt.datetime(2026, 10, 23, 23, 30 if n == 4 else 22, tzinfo=dt.UTC)
    return START + dt.timedelta(hours=13 * n)  # late evenings: the London day is not UTC's


def _add_messages(session: Session) -> None:
    reasons = list(REASONS)
    for n in range(COUNT):
        codes = [f"C-{n:02d}AB{n % 3}XY"][:n % 3] + (["C-SHARED00"] if n % 5 == 0 else [])
        unmatched.add(session, InboxMessage(
            id=str(n), message_id=f"<m{n:02d}{'%' if n == 11 else ''}@{DOMAINS[n % 4]}>",
            subject="About a child", body="", received_at=_received(n),
            sender_domain=DOMAINS[n % 4]), reasons[n % len(reasons)], codes)
    session.flush()
    for row in session.scalars(select(UnmatchedMessage)):
        if int(row.message_id[2:4]) % 3 == 0:
            unmatched.dealt_with(session, row.id, now=START + dt.timedelta(days=20), actor=BSO,
                                 note=f"filed by hand {row.message_id[2:4]}")
    session.commit()


def _rows(session: Session) -> list[UnmatchedMessage]:
    return list(session.scalars(select(UnmatchedMessage)))


def _london_day(row: UnmatchedMessage) -> dt.date | None:
    return row.received_at.astimezone(LONDON).date() if row.received_at else None


FIRST, LAST = dt.date(2026, 10, 24), dt.date(2026, 11, 1)
# each filter and what Python says of a row
FILTERS: dict[str, tuple[Wanted, dict[str, str], Callable[[UnmatchedMessage], bool]]] = {
    "waiting": (Wanted(), {}, lambda r: r.dealt_with_at is None),
    "dealt": (Wanted(show="dealt"), {"show": "dealt"}, lambda r: r.dealt_with_at is not None),
    "all": (Wanted(show="all"), {"show": "all"}, lambda r: True),
    "reason": (Wanted(show="all", reason="not_sent"), {"show": "all", "reason": "not_sent"},
               lambda r: r.reason == "not_sent"),
    "days": (Wanted(show="all", first=FIRST, last=LAST),
             {"show": "all", "from": str(FIRST), "to": str(LAST)},
             lambda r: (d := _london_day(r)) is not None and FIRST <= d <= LAST),
    "from": (Wanted(first=FIRST), {"from": str(FIRST)},
             lambda r: r.dealt_with_at is None and (d := _london_day(r)) is not None
             and d >= FIRST),
    "code": (Wanted(show="all", search="c-shared"), {"show": "all", "q": "c-shared"},
             lambda r: "C-SHARED00" in r.codes),
    "domain": (Wanted(search="PARENTS.example"), {"q": "PARENTS.example"},
               lambda r: r.dealt_with_at is None and r.sender_domain == DOMAINS[1]),
    "message_id": (Wanted(show="all", search="<m1"), {"show": "all", "q": "<m1"},
                   lambda r: r.message_id.startswith("<m1")),
    "percent": (Wanted(show="all", search="%"), {"show": "all", "q": "%"},
                lambda r: "%" in r.message_id),
    "underscore": (Wanted(show="all", search="_"), {"show": "all", "q": "_"},
                   lambda r: "_" in r.sender_domain),
    "together": (Wanted(show="all", reason="no_code", search="example.org", first=FIRST),
                 {"show": "all", "reason": "no_code", "q": "example.org", "from": str(FIRST)},
                 lambda r: r.reason == "no_code" and "example.org" in r.message_id
                 and (d := _london_day(r)) is not None and d >= FIRST),
}


def _ordered(rows: list[UnmatchedMessage], sort: str, descending: bool) -> list[int]:
    """What the list should show, worked out in Python: nulls last, ties by id."""
    words = sorted(REASONS.values())

    def key(r: UnmatchedMessage) -> tuple[Any, ...]:
        if sort == "received":
            return (r.received_at is None, r.received_at or START, r.id)
        if sort == "reason":
            return (words.index(REASONS[r.reason]), r.id)
        return (r.sender_domain, r.id)
    ids = [r.id for r in sorted(rows, key=key)]
    return ids[::-1] if descending else ids


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Browser]:
    app, _ = make_app(tmp_path, database_url=store_url(request))
    with app.state.web.sessions() as session:
        _add_messages(session)
    b = Browser(app)
    b.sign_in(SUPPORT)
    return app, b


def test_the_data_exercises_every_filter(site: tuple[Any, Browser]) -> None:
    app, _ = site
    with app.state.web.sessions() as session:
        rows = _rows(session)
    for name, (_, _, keep) in FILTERS.items():
        kept = [r for r in rows if keep(r)]
        assert 0 < len(kept) < len(rows) or name == "all", name
    assert sum(1 for r in rows if "%" in r.message_id) == 1
    assert any(r.received_at and r.received_at.date() != _london_day(r) for r in rows)


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_and_sort_in_sql_is_what_python_says(site: tuple[Any, Browser],
                                                          name: str) -> None:
    app, _ = site
    wanted, _, keep = FILTERS[name]
    with app.state.web.sessions() as session:
        kept = [r for r in _rows(session) if keep(r)]
        for sort in SORTS:
            for descending in (False, True):
                walked: list[int] = []
                for offset in range(0, COUNT + 4, 4):  # 4 a page: every boundary crossed
                    rows, total = unmatched.listed(session, wanted, sort=sort,
                                                   descending=descending, offset=offset, limit=4)
                    assert total == len(kept)
                    walked += [r.id for r in rows]
                assert walked == _ordered(kept, sort, descending), (sort, descending)


def _walk(b: Browser, query: str) -> tuple[list[str], int]:
    """Every Message-ID shown, following the Next links; and the total the page states."""
    shown: list[str] = []
    page = b.get("/support/returns/unmatched" + query)
    assert page.status_code == 200, page.text[:500]
    total = int(m.group(1)) if (m := re.search(r"<strong>(\d+) messages?</strong>",
                                               page.text)) else -1
    for _ in range(10):
        shown += [html.unescape(m) for m in MESSAGE_ID.findall(page.text)]
        found = re.search(r'<a href="(\?[^"]*)" rel="next">', page.text)
        if not found:
            break
        page = b.get("/support/returns/unmatched" + html.unescape(found.group(1)))
    return shown, total


@pytest.mark.parametrize("name", ["waiting", "all", "days", "percent", "together"])
def test_the_page_shows_each_filter_and_sort_page_by_page(site: tuple[Any, Browser],
                                                          name: str) -> None:
    from urllib.parse import urlencode

    app, b = site
    _, params, keep = FILTERS[name]
    with app.state.web.sessions() as session:
        kept = [r for r in _rows(session) if keep(r)]
    by_id = {r.id: r.message_id for r in kept}
    for sort in SORTS:
        for direction in ("asc", "desc"):
            query = "?" + urlencode({**params, "sort": sort, "dir": direction, "size": 25})
            shown, total = _walk(b, query)
            assert total == len(kept), query
            assert shown == [by_id[i] for i in _ordered(kept, sort, direction == "desc")], query


def test_waiting_rows_have_the_button_and_dealt_with_ones_say_who(
        site: tuple[Any, Browser]) -> None:
    _, b = site
    waiting = b.get("/support/returns/unmatched").text
    assert "20 messages</strong>" in waiting and "not dealt with yet" in waiting
    assert waiting.count(">Dealt with</button>") == 20 and "filed by hand" not in waiting
    dealt = b.get("/support/returns/unmatched?show=dealt").text
    assert "10 messages</strong>" in dealt and ">Dealt with</button>" not in dealt
    assert dealt.count(f'by <span title="{BSO}">bso</span>') == 10 and "filed by hand 03" in dealt
    assert 'aria-sort="ascending"><a href="?show=dealt&amp;sort=received&amp;dir=desc' in dealt
    assert '<option value="dealt" selected>' in dealt  # the form shows what is filtered


def test_a_bad_parameter_is_a_400_naming_it(site: tuple[Any, Browser]) -> None:
    _, b = site
    for query, words in (("?show=everything", "show: expected one of waiting, dealt, all"),
                         ("?sort=subject", "sort: expected one of received, reason, domain"),
                         ("?from=last+week", "from: expected a date"),
                         ("?to=2026-13-01", "to: expected a date"),
                         ("?reason=spam", "reason: expected one of no_code"),
                         ("?dir=up", "dir: expected asc or desc"),
                         ("?to=9999-12-31", "to: 9999-12-31 is out of range"),
                         ("?q=a%00b", "q: only letters, digits and punctuation")):
        page = b.get("/support/returns/unmatched" + query)
        assert page.status_code == 400 and words in page.text, query


def test_the_service_refuses_what_it_does_not_offer(site: tuple[Any, Browser]) -> None:
    app, _ = site
    with app.state.web.sessions() as session:
        for wanted, sort, words in ((Wanted(show="some"), "received", "show: expected"),
                                    (Wanted(reason="spam"), "received", "reason: expected"),
                                    (Wanted(), "subject", "sort: expected")):
            with pytest.raises(BadInputError, match=words):
                unmatched.listed(session, wanted, sort=sort)


def test_dealt_with_keeps_the_filters_the_officer_had(site: tuple[Any, Browser]) -> None:
    app, b = site
    query = "?reason=several_codes&q=example.net&sort=domain&dir=desc"
    page = b.get("/support/returns/unmatched" + query).text
    back = re.search(r'name="back" value="([^"]+)"', page)
    assert back
    target = html.unescape(back.group(1))
    assert target.startswith("/support/returns/unmatched?")
    assert all(p in target for p in ("reason=several_codes", "q=example.net", "sort=domain",
                                     "dir=desc"))
    [first, *rest] = re.findall(r"/support/returns/unmatched/(\d+)/dealt-with", page)
    done = b.post(f"/support/returns/unmatched/{first}/dealt-with",
                  {"note": "answered", "back": target})
    assert done.status_code == 303 and done.headers["location"] == target
    after = b.get(target).text
    assert f"Message {first} marked dealt with" in after
    assert re.findall(r"/support/returns/unmatched/(\d+)/dealt-with", after) == rest
    assert rest and 'value="example.net"' in after
    assert '<option value="several_codes" selected>' in after
    with app.state.web.sessions() as session:
        row = session.get(UnmatchedMessage, int(first))
        assert row is not None and row.dealt_with_by == SUPPORT and row.note == "answered"
    for elsewhere in ("https://elsewhere.example/", "//elsewhere.example/support/",
                      "/support/\\\\elsewhere.example", "/support/x\r\nSet-Cookie: a=b"):
        away = b.post(f"/support/returns/unmatched/{rest[0]}/dealt-with", {"back": elsewhere})
        assert away.headers["location"] == "/support/returns/unmatched", elsewhere


def test_a_page_past_the_end_shows_the_last(site: tuple[Any, Browser]) -> None:
    _, b = site  # the last one on the last page dealt with: the officer sees the page before
    page = b.get("/support/returns/unmatched?size=25&page=3").text
    assert "Showing 1–20 of 20" in page and len(MESSAGE_ID.findall(page)) == 20


def test_the_cli_takes_the_same_filters(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as session:
        _add_messages(session)
        rows = _rows(session)
    kept = [r for r in rows if r.dealt_with_at is None and r.reason == "several_codes"]
    code, out, err = iro(tmp_path, "returns", "unmatched", "--reason", "several_codes")
    assert code == 0, err
    assert f"{len(kept)} in all" in out and f"{len(kept) + 1} in all" not in out
    out = iro(tmp_path, "returns", "unmatched", "--all", "--search", "c-shared")[1]
    assert f"{sum('C-SHARED00' in r.codes for r in rows)} in all" in out
    kept = [r for r in rows if r.dealt_with_at is None and
            (d := _london_day(r)) is not None and FIRST <= d <= LAST]
    out = iro(tmp_path, "returns", "unmatched", "--from", str(FIRST), "--to", str(LAST))[1]
    assert f"{len(kept)} in all" in out
    assert "that match" in iro(tmp_path, "returns", "unmatched", "--search", "nowhere")[1]
    bad = iro(tmp_path, "returns", "unmatched", "--reason", "spam")
    assert bad[0] == 2 and "reason: expected one of no_code" in bad[2]
    bad = iro(tmp_path, "returns", "unmatched", "--from", "soon")
    assert bad[0] == 2 and "--from" in bad[2]
    helped = iro(tmp_path, "returns", "--help")[1]
    assert all(k in helped for k in REASONS) and "--search" in helped


def test_the_search_box_finds_a_letter_the_database_cannot_fold_as_typed(
        site: tuple[Any, Browser]) -> None:
    # SQLite folds ASCII only and Python folds ß to SS: the search is the database's own
    app, b = site
    with app.state.web.sessions() as session:
        for n, domain in enumerate(("exämple.org", "straße.example")):
            session.add(UnmatchedMessage(message_id=f"<u{n}@{domain}>", reason="no_code",
                                         received_at=START, sender_domain=domain))
        session.commit()
    for typed, domain in (("exämple", "exämple.org"), ("Straße", "straße.example"),
                          ("EX", "exämple.org")):
        page = b.get("/support/returns/unmatched", params={"q": typed})
        assert page.status_code == 200 and domain in page.text, typed
