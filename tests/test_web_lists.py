"""The upcoming reviews list at a council's scale: every planned review reachable a page at a
time with the total (it used to stop silently at 200), sorted and filtered by the database,
each filter checked against what Python says of every review."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from factories import make_child, make_review
from mailout_support import CAL, RULES
from sqlalchemy import select
from web_client import STORES, TODAY, Browser, make_app, store_url
from web_seed import IRO, SUPPORT, Seeded

from workers.core.clock import london_moment
from workers.core.planning import mailout_day
from workers.mailout.documents import review_on
from workers.mailout.plan import INVITATION_KIND
from workers.store.models import Child, Dispatch, Review

EXTRA = 230  # more than the 200 the list used to stop at
IROS = ("daniel.hughes@council.example.gov.uk", "aisha.rahman@council.example.gov.uk",
        "grace.whitfield@council.example.gov.uk")
TEAMS = ("north_lac", "south_lac", "leaving_care")
ROW = re.compile(r'<td><a href="/support/reviews/([^"/]+)">')


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    app, seeded = make_app(tmp_path, database_url=store_url(request))
    with app.state.web.sessions() as session:
        for n in range(EXTRA):
            child = make_child(session, iro_email=IROS[n % 3], team=TEAMS[n % len(TEAMS)])
            day = TODAY + dt.timedelta(days=1 + (n * 7) % 300)
            scheduled = None if n % 10 == 0 else london_moment(day, dt.time(10))
            make_review(session, child, scheduled_at=scheduled,
                        due_on=day + dt.timedelta(days=3 if scheduled else 0))
        session.commit()
    return app, seeded


def _planned(app: Any) -> list[tuple[Review, Child, bool]]:
    with app.state.web.sessions() as session:
        started = set(session.scalars(select(Dispatch.review_id).where(
            Dispatch.kind == INVITATION_KIND)))
        return [(r, c, r.id in started) for r, c in session.execute(
            select(Review, Child).join(Child).where(Review.status == "planned"))]


def _all_pages(browser: Browser, query: str) -> tuple[list[str], int]:
    """Every row ref, following the Next links; and the total the page states."""
    refs: list[str] = []
    page = browser.get(f"/support{query}")
    assert page.status_code == 200, page.text[:500]
    total = int(m.group(1)) if (m := re.search(r"Showing \d+–\d+ of (\d+)", page.text)) else 0
    for _ in range(100):
        refs += ROW.findall(page.text)
        found = re.search(r'<a href="(\?[^"]*)" rel="next">', page.text)
        if not found:
            break
        page = browser.get("/support" + found.group(1).replace("&amp;", "&"))
    return refs, total


def test_every_planned_review_is_reachable_page_by_page(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    planned = _planned(app)
    first = browser.get("/support").text
    assert len(ROW.findall(first)) == 50
    assert f"Showing 1–50 of {len(planned)}" in first and "page 1 of 5" in first
    refs, total = _all_pages(browser, "")
    assert total == len(planned) > 200
    assert sorted(refs) == sorted(r.ref for r, _, _ in planned)  # each once, none lost
    by_meeting = sorted(planned, key=lambda x: (review_on(x[0]), x[0].id))
    assert refs == [r.ref for r, _, _ in by_meeting]
    refs_desc, _ = _all_pages(browser, "?sort=review&dir=desc&size=100")
    assert refs_desc == sorted(refs, reverse=True)


@pytest.mark.parametrize("name", ["iro", "team", "q", "dates", "not_started", "failed",
                                  "mailout_due", "mailout_late"])
def test_each_filter_matches_what_python_says(site: tuple[Any, Seeded], name: str) -> None:
    app, seeded = site
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    planned = _planned(app)
    first, last = TODAY + dt.timedelta(days=30), TODAY + dt.timedelta(days=90)

    def goes_on(r: Review) -> dt.date:
        return mailout_day("invitations", RULES.mailout.invitations, CAL, review_on=review_on(r))

    query, keep = {
        "iro": (f"?iro={IROS[1]}", lambda r, c, s: r.iro_email == IROS[1]),
        "team": ("?team=south_lac", lambda r, c, s: c.team == "south_lac"),
        "q": (f"?q={seeded.my_child.lower()}", lambda r, c, s: c.ref == seeded.my_child),
        "dates": (f"?from={first}&to={last}",
                  lambda r, c, s: first <= review_on(r) <= last),
        "not_started": ("?state=not_started", lambda r, c, s: not s),
        "failed": ("?state=failed", lambda r, c, s: r.ref == seeded.broken_review),
        "mailout_due": ("?mailout=due", lambda r, c, s: not s and goes_on(r) <= TODAY),
        "mailout_late": ("?mailout=late", lambda r, c, s: not s and goes_on(r) < TODAY),
    }[name]
    expected = sorted(r.ref for r, c, s in planned if keep(r, c, s))
    refs, total = _all_pages(browser, query)
    assert sorted(refs) == expected and total == len(expected)
    assert expected or name in ("mailout_late",)  # the data exercises the filter
    if name in ("iro", "dates", "mailout_due"):
        assert 0 < len(expected) < len(planned)


def test_a_bad_listing_is_named(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    for query, words in (("?sort=password", "sort: expected one of"),
                         ("?size=100000", "size: expected one of"),
                         ("?page=-1", "page: expected a whole number"),
                         ("?from=yesterday", "from: expected a date"),
                         (f"?iro={IRO}x", "iro: expected one of")):
        page = browser.get(f"/support{query}")
        assert page.status_code == 400 and words in page.text, query
    far = browser.get("/support?page=999")
    assert far.status_code == 200 and "Nothing matches" not in far.text  # past the end: empty
    assert 'rel="prev"' in far.text
    search = browser.get("/support?q=%25")  # a % typed in the search box matches nothing special
    assert "Nothing matches" in search.text


def test_every_list_refuses_a_date_out_of_range_and_a_control_character(
        site: tuple[Any, Seeded]) -> None:
    # a day past 9999-12-31 cannot be counted to (it was a 500); PostgreSQL refuses a NUL
    from web_seed import IRO_MANAGER

    lists = {SUPPORT: ("/support", "/support/letters", "/support/mailouts",
                       "/support/returns/unmatched", "/support/dispatches"),
             IRO: ("/iro", "/iro/escalations"),
             IRO_MANAGER: ("/manager", "/manager/escalations")}
    ignored = []
    for user, paths in lists.items():
        browser = Browser(site[0])
        browser.sign_in(user)
        for path in paths:
            for query, words in (("?to=9999-12-31", "is out of range; give a date from 1900"),
                                 ("?from=0001-01-01", "is out of range"),
                                 ("?q=R-%00", "q: only letters, digits and punctuation")):
                page = browser.get(path + query)
                if page.status_code == 400 and words in page.text:
                    continue
                assert page.status_code == 200, (path, query, page.status_code)
                ignored.append((path, query[1:3]))
    # lists without that filter ignore it
    assert ignored == [("/support/mailouts", "to"), ("/support/mailouts", "fr"),
                       ("/support/dispatches", "to"), ("/support/dispatches", "fr")], ignored
    browser = Browser(site[0])
    browser.sign_in(SUPPORT)
    assert browser.get("/support/letters?to=9999-12-31").status_code == 400
    assert browser.get("/support?q=%00").status_code == 400


def test_failed_letters_are_paged_newest_first_and_filtered(site: tuple[Any, Seeded]) -> None:
    app, seeded = site
    with app.state.web.sessions() as session:
        reviews = list(session.scalars(select(Review).where(Review.status == "planned")
                                       .order_by(Review.id).limit(60)))
        for n, review in enumerate(reviews):
            for k in range(2):
                session.add(Dispatch(
                    key=f"{review.ref}/bench/{k}", kind=INVITATION_KIND, review_id=review.id,
                    channel="post" if k else "email", state="bounced" if n % 4 == 0 else "failed",
                    recipient="x@council.example.gov.uk", attempts=3, last_error="refused (550)",
                    due_at=london_moment(TODAY)))
        session.commit()
        total = 1 + 2 * len(reviews)
        bounced = 2 * len([r for n, r in enumerate(reviews) if n % 4 == 0])
        broken = 1 + 2 * sum(r.ref == seeded.broken_review for r in reviews)
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    page = browser.get("/support/dispatches").text
    assert f"Showing 1–50 of {total}" in page and page.count("Send again</button>") == 50
    ids = [int(x) for x in re.findall(r"<tr>\s*<td>(\d+)</td>", page)]
    assert ids == sorted(ids, reverse=True)  # newest first (all stamped now: by id)
    only = browser.get("/support/dispatches?state=bounced&channel=post").text
    assert f"Showing 1–{bounced // 2} of {bounced // 2}" in only
    one = browser.get(f"/support/dispatches?q={seeded.broken_review}").text
    assert f"Showing 1–{broken} of {broken}" in one and "refused the address (550)" in one


def test_forms_outstanding_and_all_back_match_what_python_says(site: tuple[Any, Seeded]) -> None:
    # a form counts once it went (emailed, or printed for post: state sent) and is back once a
    # return is recorded; letters not yet sent, cancelled or without a form do not count
    from factories import make_participant

    from workers.store.models import Return

    app, _ = site
    with app.state.web.sessions() as session:
        reviews = list(session.scalars(select(Review).where(Review.status == "planned")
                                       .order_by(Review.id).limit(6)))
        shapes = [  # (state, has a form, returned) of each review's letters
            [("sent", True, True), ("sent", True, False)],  # one outstanding
            [("sent", True, True), ("sent", True, True)],  # all back
            [("sent", True, True), ("pending", True, False)],  # all sent are back
            [("cancelled", True, False), ("sent", False, False)],  # no form out
            [("sent", True, False)],  # outstanding
            [("failed", True, False), ("sent", True, True)],  # back (the failed one never went)
        ]
        for review, letters in zip(reviews, shapes, strict=True):
            for n, (state, form, returned) in enumerate(letters):
                person = make_participant(session, review, role="carer")
                letter = Dispatch(key=f"{review.ref}/forms-test/{n}", kind=INVITATION_KIND,
                                  channel="email", state=state, review_id=review.id,
                                  participant_id=person.id, due_at=london_moment(TODAY),
                                  reference_code=f"F-{review.id}-{n}" if form else None)
                session.add(letter)
                session.flush()
                if returned:
                    session.add(Return(dispatch_id=letter.id, received_on=TODAY,
                                       channel="email"))
        session.commit()
        planned = {r.id: r.ref for r in session.scalars(
            select(Review).where(Review.status == "planned"))}
        counted: dict[str, list[bool]] = {}  # each planned review's forms out: back or not
        for letter in session.scalars(select(Dispatch).where(
                Dispatch.kind == INVITATION_KIND, Dispatch.reference_code.is_not(None),
                Dispatch.state == "sent")):
            back = session.scalar(select(Return.id).where(Return.dispatch_id == letter.id))
            if letter.review_id in planned:
                counted.setdefault(planned[letter.review_id], []).append(back is not None)
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    outstanding = sorted(ref for ref, back in counted.items() if not all(back))
    all_back = sorted(ref for ref, back in counted.items() if all(back))
    assert {reviews[0].ref, reviews[4].ref} <= set(outstanding)
    assert {reviews[1].ref, reviews[2].ref, reviews[5].ref} <= set(all_back)
    assert reviews[3].ref not in outstanding + all_back
    refs, total = _all_pages(browser, "?forms=outstanding")
    assert sorted(refs) == outstanding and total == len(outstanding)
    refs, total = _all_pages(browser, "?forms=back")
    assert sorted(refs) == all_back and total == len(all_back)
    page = browser.get(f"/support?q={reviews[0].ref}").text
    assert "1 of 2 forms back" in page
    assert browser.get("/support?forms=some").status_code == 400
