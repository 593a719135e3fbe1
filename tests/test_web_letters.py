"""The Letters page: every letter (not only the failed), overall or for one review, paged with
the total, sorted and filtered by the database, each filter checked against what Python says of
every letter; the address each went to is shown."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from factories import make_participant
from sqlalchemy import select
from web_client import STORES, TODAY, Browser, make_app, store_url
from web_seed import SUPPORT, Seeded

from workers.core.clock import LONDON, london_moment
from workers.store.models import Dispatch, Review
from workers.web.queries import shown_state

STATES = ("pending", "queued", "sent", "failed", "bounced", "cancelled")
ROW = re.compile(r"<tr>\s*<td>(\d+)</td>")


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    app, seeded = make_app(tmp_path, database_url=store_url(request))
    with app.state.web.sessions() as session:
        reviews = list(session.scalars(select(Review).order_by(Review.id)))
        for n in range(130):
            review = reviews[n % len(reviews)]
            person = make_participant(session, review, "carer")
            state = STATES[n % len(STATES)]
            day = london_moment(TODAY - dt.timedelta(days=n % 40), dt.time(9))
            post = n % 4 == 0
            session.add(Dispatch(
                key=f"{review.ref}/letters-test/{n}", kind="mailout_invitation",
                channel="post" if post else "email", state=state, review_id=review.id,
                participant_id=person.id, recipient="post" if post else person.email or "",
                due_at=day, sent_at=day + dt.timedelta(hours=1) if state == "sent" else None,
                sent_to=("1 Test Row\nBR1 1AA" if post else person.email)
                if state == "sent" else None, attempts=1))
        session.commit()
    return app, seeded


def _letters(app: Any) -> list[tuple[Dispatch, str | None]]:
    with app.state.web.sessions() as session:
        return [(d, ref) for d, ref in session.execute(
            select(Dispatch, Review.ref).outerjoin(Review, Review.id == Dispatch.review_id))]


def _all_pages(b: Browser, query: str) -> tuple[list[int], int]:
    page = b.get(f"/support/letters{query}")
    assert page.status_code == 200, page.text[:500]
    total = int(m.group(1)) if (m := re.search(r"Showing \d+–\d+ of (\d+)", page.text)) else 0
    ids: list[int] = []
    for _ in range(50):
        ids += [int(x) for x in ROW.findall(page.text)]
        found = re.search(r'<a href="(\?[^"]*)" rel="next">', page.text)
        if not found:
            break
        page = b.get("/support/letters" + found.group(1).replace("&amp;", "&"))
    return ids, total


def _day(d: Dispatch) -> dt.date:
    moment = d.sent_at or d.due_at  # stored in UTC (SQLite gives it back naive); read in London
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(LONDON).date()


@pytest.mark.parametrize("name", ["all", "sent", "to_print", "pending", "post", "dates",
                                  "review", "search"])
def test_each_filter_matches_what_python_says(site: tuple[Any, Seeded], name: str) -> None:
    app, seeded = site
    b = Browser(app)
    b.sign_in(SUPPORT)
    first, last = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=10)
    query, keep = {
        "all": ("", lambda d, r: True),
        "sent": ("?state=sent", lambda d, r: d.state == "sent"),
        "to_print": ("?state=to+print",
                     lambda d, r: shown_state(d.channel, d.state) == "to print"),
        "pending": ("?state=pending",
                    lambda d, r: shown_state(d.channel, d.state) == "pending"),
        "post": ("?channel=post", lambda d, r: d.channel == "post"),
        "dates": (f"?from={first}&to={last}", lambda d, r: first <= _day(d) <= last),
        "review": (f"?review={seeded.ready_review}", lambda d, r: r == seeded.ready_review),
        "search": (f"?q={seeded.ready_review.lower()}",
                   lambda d, r: r is not None and seeded.ready_review in r),
    }[name]
    letters = _letters(app)
    expected = sorted((d.id for d, r in letters if keep(d, r)), reverse=True)
    ids, total = _all_pages(b, query)
    assert ids == expected and total == len(expected)  # newest first, each once
    assert 0 < len(expected) <= len(letters)


def test_sorted_and_showing_the_address_used(site: tuple[Any, Seeded]) -> None:
    app, seeded = site
    b = Browser(app)
    b.sign_in(SUPPORT)
    page = b.get("/support/letters?state=sent&channel=post&size=100").text
    assert "1 Test Row<br>BR1 1AA" in page and "sent " in page
    ids, _ = _all_pages(b, "?sort=day&dir=asc&size=200")
    by_day = sorted(_letters(app), key=lambda x: (x[0].sent_at or x[0].due_at, x[0].id))
    assert [d.id for d, _ in by_day] == ids
    review = b.get(f"/support/reviews/{seeded.ready_review}").text
    assert f'href="/support/letters?review={seeded.ready_review}"' in review
    for query, words in (("?state=lost", "state: expected one of"),
                         ("?sort=recipient", "sort: expected one of"),
                         ("?to=soon", "to: expected a date")):
        bad = b.get(f"/support/letters{query}")
        assert bad.status_code == 400 and words in bad.text
