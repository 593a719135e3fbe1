"""The mail-outs due page at a month's scale: every review whose invitations' day has come is
listed a page at a time with its preflight; one confirmation sends them all in a background job,
and those that fail the checks are named with why and send nothing. Through the ASGI app on
both stores, letters written to the store as `iro mailout` writes them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from factories import make_child, make_participant, make_review
from mailout_support import CAL, RULES
from sqlalchemy import select
from web_client import STORES, TODAY, Browser, make_app, store_url
from web_seed import SUPPORT, Seeded

from workers.core.clock import london_moment
from workers.core.planning import mailout_day
from workers.mailout.documents import review_on
from workers.mailout.plan import INVITATION_KIND
from workers.store.models import AuditEvent, Dispatch, Review

DUE = 70  # a month's mail-outs
BROKEN_EVERY = 10  # one in ten has a parent at an unconfirmed personal address: refused
ROW = re.compile(r'<td><a href="/support/reviews/([^"/]+)">')


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    app, seeded = make_app(tmp_path, database_url=store_url(request))
    with app.state.web.sessions() as session:
        for n in range(DUE + 30):  # 70 whose day has come, 30 well ahead of theirs
            day = TODAY + dt.timedelta(days=8 + n % 12 if n < DUE else 60 + n)
            child = make_child(session, team=("north_lac", "south_lac")[n % 2])
            review = make_review(session, child, scheduled_at=london_moment(day, dt.time(10)),
                                 due_on=day + dt.timedelta(days=2))
            make_participant(session, review, "carer")
            make_participant(session, review, "social_worker")
            if n % BROKEN_EVERY == 0:
                make_participant(session, review, "parent", email=f"p{n}@mailbox.example.com")
        session.commit()
    return app, seeded


def _due(app: Any) -> tuple[list[str], list[str]]:
    """The reviews Python says are due (by the calendar), split into ready and refused."""
    with app.state.web.sessions() as session:
        started = set(session.scalars(select(Dispatch.review_id).where(
            Dispatch.kind == INVITATION_KIND)))
        ready, refused = [], []
        for review in session.scalars(select(Review).where(Review.status == "planned")):
            goes = mailout_day("invitations", RULES.mailout.invitations, CAL,
                               review_on=review_on(review))
            if review.id in started or goes > TODAY:
                continue
            broken = any(p.email and "mailbox.example.com" in p.email
                         for p in review.participants)
            (refused if broken else ready).append(review.ref)
    return sorted(ready), sorted(refused)


def _wait_for_job(app: Any) -> Any:
    import time

    for _ in range(1200):
        job = jobs_of_app(app)
        if job is not None and job.state != "running":
            return job
        time.sleep(0.1)
    pytest.fail("the mail-out job did not finish in 120 s")


def jobs_of_app(app: Any) -> Any:
    jobs = getattr(app.state, "jobs", None)
    return jobs.get("mailout") if jobs is not None else None


def test_a_months_mailouts_go_in_one_go(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    ready, refused = _due(app)
    assert len(ready) + len(refused) == DUE and len(refused) == DUE // BROKEN_EVERY
    b = Browser(app)
    b.sign_in(SUPPORT)
    page = b.get("/support/mailouts?checks=now")  # the page as drawn without JavaScript
    assert page.status_code == 200, page.text[:500]
    assert f"Showing 1–25 of {DUE}" in page.text and "page 1 of 3" in page.text
    shown = ROW.findall(page.text)
    assert len(shown) == 25 and set(shown) <= set(ready) | set(refused)
    ticked = re.findall(r'name="review" value="([^"]+)"[^>]*checked', page.text)
    assert sorted(ticked) == sorted(r for r in shown if r in ready)  # preflight ran for each
    for ref in (r for r in shown if r in refused):  # why, next to the review
        assert re.search(rf'id="refused-{ref}">.*?allow-list', page.text, re.S), ref
    # every page, each due review once
    seen = set(shown)
    for n in (2, 3):
        seen |= set(ROW.findall(b.get(f"/support/mailouts?page={n}").text))
    assert seen == set(ready) | set(refused)

    before = _sent(app)  # the seeded service's own letters
    ask = b.post("/support/mailouts/send", {"scope": "all", "mailout": "due"})
    assert ask.status_code == 200 and f"Yes, send for {DUE} reviews" in ask.text
    assert _sent(app) == before  # nothing until confirmed
    done = b.post("/support/mailouts/send", {"scope": "all", "mailout": "due",
                                             "confirmed": "yes"})
    assert done.status_code == 303
    job = _wait_for_job(app)
    assert job.state == "finished", job.message
    assert _sent(app) - before == set(ready)
    assert sorted(ref for ref, _ in job.failures) == refused
    assert all("allow-list" in " ".join(why) for _, why in job.failures)
    assert f"Invitations queued for {len(ready)} of {DUE} reviews" in job.message
    with app.state.web.sessions() as session:
        actors = list(session.scalars(select(AuditEvent.actor).where(
            AuditEvent.action == "mailout.queued")))
    assert actors == [SUPPORT] * len(ready)
    after = b.get("/support/mailouts").text  # only the refused are still due, each with why
    assert sorted(ROW.findall(after)) == refused
    assert "Refused: nothing of these was sent" in after
    # a poll that already shows the finished job changes nothing on the page
    assert b.get(f"/support/mailouts/job?seen={job.fingerprint}").status_code == 204
    assert "Invitations queued" in b.get("/support/mailouts/job?seen=old").text


CHECKING = re.compile(r'hx-get="/support/mailouts/check/([^"]+)" hx-trigger="load"')


def _ticked(html: str) -> list[str]:
    return sorted(re.findall(r'name="review" value="([^"]+)"[^>]*checked', html))


def test_the_page_comes_first_and_each_row_is_checked_once(site: tuple[Any, Seeded]) -> None:
    """A fresh page asks the browser to check each row; a row's answer is kept until something
    it is worked out from changes (its people, the templates, tomorrow), and sending checks
    again whatever was kept."""
    app, _ = site
    ready, refused = _due(app)
    b = Browser(app)
    b.sign_in(SUPPORT)
    first = b.get("/support/mailouts").text
    shown = ROW.findall(first)
    assert CHECKING.findall(first) == shown and len(shown) == 25 and _ticked(first) == []
    assert "(25 of the 25 were not checked yet)" in first
    assert "checks=now" in first.split("<noscript>")[1].split("</noscript>")[0]
    for ref in shown:  # as htmx asks, each row comes back in its place, checked
        row = b.get(f"/support/mailouts/check/{ref}").text
        assert row.startswith(f'<tr id="row-{ref}">') and "hx-get" not in row
        assert (f'value="{ref}"' in row) == (ref in ready)
        assert ("allow-list" in row) == (ref in refused)
    again = b.get("/support/mailouts").text  # now all from memory: no preflight at all
    assert CHECKING.findall(again) == []
    assert _ticked(again) == sorted(r for r in shown if r in ready)

    # a refused review's parent confirmed at a council address: that row only is checked again
    fixed = next(r for r in shown if r in refused)
    with app.state.web.sessions() as session:
        review = session.scalars(select(Review).where(Review.ref == fixed)).one()
        parent = next(p for p in review.participants if p.role == "parent")
        parent.email = f"parent.{review.id}@council.example.gov.uk"
        session.commit()
    after = b.get("/support/mailouts").text
    assert CHECKING.findall(after) == [fixed]
    assert f'value="{fixed}"' in b.get(f"/support/mailouts/check/{fixed}").text
    assert b.get("/support/mailouts/check/R-NOPE").status_code == 404


def test_a_kept_answer_is_for_today_and_these_templates_only(site: tuple[Any, Seeded],
                                                             tmp_path: Path) -> None:
    import os
    import shutil

    from workers.web.preflight_cache import _files, keys, versions

    app, _ = site
    ctx = app.state.web
    ready, _ = _due(app)
    shared = versions(ctx)
    assert shared[0] == _files(ctx.settings.templates_dir) and shared[-1] == TODAY
    with ctx.sessions() as session:
        review = session.scalars(select(Review).where(Review.ref == ready[0])).one()
        meeting = review.scheduled_at
        assert meeting is not None
        before = meeting - dt.timedelta(minutes=1)
        now = keys(session, ready[:1], shared, before)[ready[0]]
        tomorrow = keys(session, ready[:1], (*shared[:-1], TODAY + dt.timedelta(days=1)),
                        before)
        assert tomorrow[ready[0]] != now
        assert keys(session, ready[:1], versions(ctx), before)[ready[0]] == now  # no change
        # the meeting begins: preflight refuses from that minute, so the kept answer goes
        assert keys(session, ready[:1], shared, meeting)[ready[0]] != now
    copy = Path(shutil.copytree(ctx.settings.templates_dir, tmp_path / "templates"))
    before = _files(copy)
    template = next(p for p in sorted(copy.rglob("*")) if p.is_file())
    stat = template.stat()
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert _files(copy) != before  # a template saved again: every answer is worked out again


def test_only_the_ticked_and_still_due_reviews_are_sent(site: tuple[Any, Seeded]) -> None:
    app, seeded = site
    ready, _ = _due(app)
    b = Browser(app)
    b.sign_in(SUPPORT)
    b.get("/support/mailouts")
    before = _sent(app)
    # a review not due (the seeded one, weeks ahead) posted by hand does not get through
    picked = {"scope": "selected", "review": [ready[0], ready[1], seeded.ready_review]}
    ask = b.post("/support/mailouts/send", picked)  # type: ignore[dict-item]
    assert "Yes, send for 2 reviews" in ask.text
    b.post("/support/mailouts/send", {**picked, "confirmed": "yes"})  # type: ignore[dict-item]
    assert _wait_for_job(app).state == "finished"
    assert _sent(app) - before == {ready[0], ready[1]}
    # sent meanwhile: a second confirmation finds nothing left to send, and says so
    again = b.post("/support/mailouts/send", {"scope": "selected", "review": [ready[0]],
                                              "confirmed": "yes"})  # type: ignore[dict-item]
    assert again.status_code == 303
    assert "nothing was sent" in b.get(again.headers["location"]).text


def test_a_bad_request_is_named(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    b = Browser(app)
    b.sign_in(SUPPORT)
    assert b.get("/support/mailouts?mailout=never").status_code == 400
    b.get("/support/mailouts")
    assert b.post("/support/mailouts/send", {"scope": "everything"}).status_code == 400
    assert jobs_of_app(app) is None


def _sent(app: Any) -> set[str]:
    with app.state.web.sessions() as session:
        return set(session.scalars(select(Review.ref).join(
            Dispatch, Dispatch.review_id == Review.id).where(Dispatch.kind == INVITATION_KIND)))

