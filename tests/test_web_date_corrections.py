"""Correcting a date entered wrongly on the web (issue 16 §5): the day a form came back, on the
review's returns page, and the day a print batch was posted, on the print batches page. Business
support or an IRO manager, audited with the signed-in person and the old and new values; another
role gets 403; a bad date is refused with nothing changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_client import STORES, Browser, make_app, store_url
from web_seed import IRO, IRO_MANAGER, SUPPORT, Seeded

from workers.core.clock import LONDON, london_moment
from workers.mailout.plan import INVITATION_KIND
from workers.returns import service
from workers.store.models import AuditEvent, Dispatch, PrintBatch, Return

SENT_AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
RECEIVED = dt.date(2026, 11, 30)
POSTED = london_moment(dt.date(2026, 11, 27), dt.time(15, 30))


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded, Browser]:
    app, seeded = make_app(tmp_path, database_url=store_url(request))
    b = Browser(app)
    b.sign_in(SUPPORT)
    b.get("/support")
    return app, seeded, b


def _audits(app: Any, action: str) -> list[AuditEvent]:
    with app.state.web.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _as(app: Any, email: str) -> Browser:
    other = Browser(app)
    home = other.sign_in(email).headers["location"]
    assert other.get(home).status_code == 200  # the new session's form token
    return other


def _returned_form(app: Any, s: Seeded, b: Browser) -> str:
    """A form sent on 20 November and recorded as back on 30 November."""
    b.post(f"/support/reviews/{s.ready_review}/send")
    with app.state.web.sessions() as session:
        letter = session.scalars(select(Dispatch).where(
            Dispatch.kind == INVITATION_KIND, Dispatch.key.startswith(s.ready_review),
            Dispatch.reference_code.is_not(None)).order_by(Dispatch.id)).first()
        assert letter is not None
        letter.state, letter.sent_at = "sent", SENT_AT
        service.record_return(session, letter, received_on=RECEIVED, channel="post")
        session.commit()
        return letter.reference_code or ""


def _received(app: Any) -> list[dt.date]:
    with app.state.web.sessions() as session:
        return [r.received_on for r in session.scalars(select(Return))]


def test_the_day_a_form_came_back_is_corrected(site: tuple[Any, Seeded, Browser]) -> None:
    app, s, b = site
    code = _returned_form(app, s, b)
    page_url = f"/support/reviews/{s.ready_review}/returns"
    page = b.get(page_url).text
    assert f'action="/support/returns/{code}/correct-date"' in page
    assert f'value="{RECEIVED.isoformat()}"' in page

    # refused: before the form was sent, in the future, not a date — nothing changes
    for typed, said in (("2026-11-19", "before the form was sent (2026-11-20)"),
                        ("2026-12-02", "is in the future"),
                        ("30/11/2026", "expected a date (YYYY-MM-DD)")):
        no = b.post(f"/support/returns/{code}/correct-date",
                    {"received_on": typed, "back": page_url})
        assert no.status_code == 303 and no.headers["location"] == page_url
        shown = b.get(page_url).text
        assert said in shown and "The date" in shown and "nothing changed" in shown
        assert "--date" not in shown
    assert _received(app) == [RECEIVED] and _audits(app, "return.corrected") == []

    # a wrong role: 403, nothing changed
    assert _as(app, IRO).post(f"/support/returns/{code}/correct-date",
                              {"received_on": "2026-11-25"}).status_code == 403
    assert _received(app) == [RECEIVED]

    done = b.post(f"/support/returns/{code}/correct-date",
                  {"received_on": "2026-11-25", "back": page_url})
    assert done.headers["location"] == page_url
    assert "returned on 25 November 2026 (was 30 November 2026)" in b.get(page_url).text
    assert _received(app) == [dt.date(2026, 11, 25)]
    [event] = _audits(app, "return.corrected")
    assert event.actor == SUPPORT and event.details["code"] == code
    assert (event.details["old"], event.details["new"]) == ("2026-11-30", "2026-11-25")

    # an IRO manager may too
    _as(app, IRO_MANAGER).post(f"/support/returns/{code}/correct-date",
                               {"received_on": "2026-11-26"})
    assert _received(app) == [dt.date(2026, 11, 26)]
    assert [e.actor for e in _audits(app, "return.corrected")] == [SUPPORT, IRO_MANAGER]


def _posted_batch(app: Any, s: Seeded) -> int:
    with app.state.web.sessions() as session:
        batch = PrintBatch(batch_date=dt.date(2026, 11, 26), pdf_path="batch.pdf", manifest_path="",
                           printed_at=POSTED)
        session.add(batch)
        session.flush()
        letter = session.get(Dispatch, s.failed_dispatch_id)
        assert letter is not None
        letter.state, letter.channel, letter.print_batch_id = "sent", "post", batch.id
        letter.sent_at = POSTED
        session.commit()
        return batch.id


def _posted(app: Any, s: Seeded, batch_id: int) -> tuple[dt.date, dt.date]:
    with app.state.web.sessions() as session:
        batch, letter = session.get(PrintBatch, batch_id), session.get(Dispatch,
                                                                        s.failed_dispatch_id)
        assert batch and batch.printed_at and letter and letter.sent_at
        return (batch.printed_at.astimezone(LONDON).date(),
                letter.sent_at.astimezone(LONDON).date())


def test_the_day_a_batch_was_posted_is_corrected(site: tuple[Any, Seeded, Browser]) -> None:
    app, s, b = site
    batch_id = _posted_batch(app, s)
    page = b.get("/support/print").text
    assert f'action="/support/print/{batch_id}/correct-posted"' in page
    assert 'value="2026-11-27"' in page

    before = (dt.date(2026, 11, 27),) * 2
    for typed, said in (("2026-11-25", "before the batch was built (2026-11-26)"),
                        ("2026-11-27", "is the date already recorded"),
                        ("", "expected a date (YYYY-MM-DD)")):
        no = b.post(f"/support/print/{batch_id}/correct-posted", {"posted_on": typed})
        assert no.status_code == 303 and no.headers["location"] == "/support/print"
        shown = b.get("/support/print").text
        assert said in shown and "nothing" in shown
    assert _posted(app, s, batch_id) == before and _audits(app, "print_batch.corrected") == []
    assert _as(app, IRO).post(f"/support/print/{batch_id}/correct-posted",
                              {"posted_on": "2026-11-28"}).status_code == 403
    assert _posted(app, s, batch_id) == before

    b.post(f"/support/print/{batch_id}/correct-posted", {"posted_on": "2026-11-28"})
    assert "posted on 28 November 2026 (was 27 November 2026)" in b.get("/support/print").text
    assert _posted(app, s, batch_id) == (dt.date(2026, 11, 28),) * 2
    [event] = _audits(app, "print_batch.corrected")
    assert event.actor == SUPPORT and event.details["letters"] == [s.failed_dispatch_id]
    assert (event.details["old"], event.details["new"]) == ("2026-11-27", "2026-11-28")
    _as(app, IRO_MANAGER).post(f"/support/print/{batch_id}/correct-posted",
                               {"posted_on": "2026-11-27"})
    assert [e.actor for e in _audits(app, "print_batch.corrected")] == [SUPPORT, IRO_MANAGER]


def test_an_iro_manager_corrects_both_dates_from_their_own_page(
        site: tuple[Any, Seeded, Browser]) -> None:
    # business support's returns and print pages are not an IRO manager's: /manager/dates is
    app, s, b = site
    code = _returned_form(app, s, b)
    batch_id = _posted_batch(app, s)
    assert b.get("/manager/dates").status_code == 403  # business support only
    manager = _as(app, IRO_MANAGER)
    assert manager.get("/support/print").status_code == 403
    page = manager.get("/manager/dates").text
    assert '<a href="/manager/dates" aria-current="page">Correct a date</a>' in page
    done = manager.post("/manager/dates/return", {"code": code.lower(),
                                                  "received_on": "2026-11-26"})
    assert done.status_code == 303 and done.headers["location"] == "/manager/dates"
    assert "returned on 26 November 2026 (was 30 November 2026)" in manager.get(
        "/manager/dates").text
    assert _received(app) == [dt.date(2026, 11, 26)]
    for batch, said in (("12a", "Print batch: expected its number"),
                        (str(batch_id), "before the batch was built (2026-11-26)")):
        no = manager.post("/manager/dates/posted", {"batch": batch, "posted_on": "2026-11-25"})
        assert no.headers["location"] == "/manager/dates"
        shown = manager.get("/manager/dates").text
        assert said in shown and "nothing changed" in shown
    manager.post("/manager/dates/posted", {"batch": str(batch_id), "posted_on": "2026-11-28"})
    assert "posted on 28 November 2026 (was 27 November 2026)" in manager.get(
        "/manager/dates").text
    assert _posted(app, s, batch_id) == (dt.date(2026, 11, 28),) * 2
    assert [e.actor for e in _audits(app, "return.corrected")] == [IRO_MANAGER]
    assert [e.actor for e in _audits(app, "print_batch.corrected")] == [IRO_MANAGER]
