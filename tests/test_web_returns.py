"""Business support's returns pages (issue 16 §3) and the print batch's void and reprint
buttons (§1) through the HTTP app: the same services as the CLI, audited with the signed-in
person, each irreversible step behind a confirmation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_client import STORES, TODAY, Browser, make_app, store_url
from web_seed import CHILD_FAMILY, SUPPORT, Seeded

from workers.mailout.plan import INVITATION_KIND
from workers.returns import service, unmatched
from workers.returns.inbox import InboxMessage
from workers.store.models import AuditEvent, Dispatch, PrintBatch, Return
from workers.store.returns_models import UnmatchedMessage

SENT_AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


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


def test_the_unmatched_list_is_paged_and_shrinks_when_dealt_with(
        site: tuple[Any, Seeded, Browser]) -> None:
    app, _, b = site
    with app.state.web.sessions() as session:
        for n in range(60):
            unmatched.add(session, InboxMessage(
                id=str(n), message_id=f"<m{n:02d}@example.org>", subject=f"About {CHILD_FAMILY}",
                body="", received_at=SENT_AT + dt.timedelta(minutes=n),
                sender_domain="example.org"), "no_code")
        session.commit()
    page = b.get("/support/returns/unmatched").text
    assert 'aria-current="page">Unmatched returns' in page
    assert "Showing 1–50 of 60" in page and "<m00@example.org>" not in page  # escaped
    assert "&lt;m00@example.org&gt;" in page and "&lt;m50@example.org&gt;" not in page
    assert "no form code in it" in page and CHILD_FAMILY not in page
    second = b.get("/support/returns/unmatched?page=2").text
    assert "Showing 51–60 of 60" in second and "&lt;m59@example.org&gt;" in second
    with app.state.web.sessions() as session:
        first = session.scalars(select(UnmatchedMessage).order_by(UnmatchedMessage.id)).first()
        assert first is not None
        first_id = first.id
    done = b.post(f"/support/returns/unmatched/{first_id}/dealt-with",
                  {"note": "answered by phone"})
    assert done.status_code == 303
    after = b.get(done.headers["location"]).text
    assert f"Message {first_id} marked dealt with" in after and "of 59" in after
    assert "&lt;m00@example.org&gt;" not in after
    assert [e.actor for e in _audits(app, "inbox.dealt_with")] == [SUPPORT]
    again = b.post(f"/support/returns/unmatched/{first_id}/dealt-with")
    assert "already dealt with" in b.get(again.headers["location"]).text


def _sent_form(app: Any, s: Seeded, b: Browser) -> Dispatch:
    b.post(f"/support/reviews/{s.ready_review}/send")
    with app.state.web.sessions() as session:
        letter = session.scalars(select(Dispatch).where(
            Dispatch.kind == INVITATION_KIND, Dispatch.key.startswith(s.ready_review),
            Dispatch.reference_code.is_not(None)).order_by(Dispatch.id)).first()
        assert letter is not None
        letter.state, letter.sent_at = "sent", SENT_AT
        session.commit()
        session.expunge(letter)
    return letter


def test_a_flagged_return_is_confirmed_and_another_undone(
        site: tuple[Any, Seeded, Browser]) -> None:
    app, s, b = site
    letter = _sent_form(app, s, b)
    code = letter.reference_code or ""
    with app.state.web.sessions() as session:
        row = session.get(Dispatch, letter.id)
        assert row is not None
        service.record_return(session, row, received_on=TODAY, channel="email",
                              sender="stranger@example.org", source_message_id="<x@example.org>")
        session.commit()
    page = b.get("/support/returns/unmatched").text
    assert code in page and "stranger@example.org" in page and "Confirm it is theirs" in page
    returns = b.get(f"/support/reviews/{s.ready_review}/returns").text
    assert "sender to confirm" in returns
    done = b.post(f"/support/returns/{code}/confirm-sender",
                  {"back": f"/support/reviews/{s.ready_review}/returns"})
    assert done.headers["location"] == f"/support/reviews/{s.ready_review}/returns"
    assert "is confirmed as" in b.get(done.headers["location"]).text
    assert [e.actor for e in _audits(app, "return.sender_confirmed")] == [SUPPORT]
    assert "No returns wait for their sender" in b.get("/support/returns/unmatched").text

    # undo: first what it is, then the confirmation
    ask = b.post(f"/support/returns/{code}/undo", {"reason": "wrong child's form"})
    assert ask.status_code == 200 and s.ready_review in ask.text
    assert "Yes, undo this return" in ask.text and 'value="wrong child&#39;s form"' in ask.text
    with app.state.web.sessions() as session:
        assert session.scalars(select(Return)).all()  # nothing changed yet
    undone = b.post(f"/support/returns/{code}/undo",
                    {"reason": "wrong child's form", "confirmed": "yes",
                     "back": "https://elsewhere.example/"})
    assert undone.headers["location"] == "/support/returns/unmatched"  # never another site
    assert f"return of form {code} was undone" in b.get(undone.headers["location"]).text
    with app.state.web.sessions() as session:
        assert session.scalars(select(Return)).all() == []
    [event] = _audits(app, "return.undone")
    assert event.actor == SUPPORT and event.details["reason"] == "wrong child's form"
    refused = b.post(f"/support/returns/{code}/undo", {"reason": "x", "confirmed": "yes"})
    assert "not recorded as returned" in b.get(refused.headers["location"]).text


def test_a_print_batch_is_voided_behind_a_confirmation(
        site: tuple[Any, Seeded, Browser], tmp_path: Path) -> None:
    app, s, b = site
    pdf = tmp_path / "batch.pdf"
    pdf.write_bytes(b"%PDF-1.4 letters")
    with app.state.web.sessions() as session:
        batch = PrintBatch(batch_date=TODAY, pdf_path=str(pdf), manifest_path="")
        session.add(batch)
        session.flush()
        letter = session.get(Dispatch, s.failed_dispatch_id)
        assert letter is not None
        letter.state, letter.channel, letter.print_batch_id = "pending", "post", batch.id
        session.commit()
        batch_id = batch.id
    page = b.get("/support/print").text
    assert f'action="/support/print/{batch_id}/void"' in page
    assert f'action="/support/print/{batch_id}/reprint"' in page
    ask = b.post(f"/support/print/{batch_id}/void", {"reason": "printer jammed"})
    assert ask.status_code == 200 and f"Yes, void batch {batch_id}" in ask.text
    assert pdf.exists()
    assert b.post(f"/support/print/{batch_id}/reprint").status_code == 200  # asks first
    done = b.post(f"/support/print/{batch_id}/void",
                  {"reason": "printer jammed", "confirmed": "yes"})
    assert "1 letters wait for the next batch" in b.get(done.headers["location"]).text
    assert not pdf.exists()  # nothing left to print by mistake
    with app.state.web.sessions() as session:
        row = session.get(Dispatch, s.failed_dispatch_id)
        assert row is not None and row.print_batch_id is None and row.state == "pending"
    assert [e.actor for e in _audits(app, "print_batch.voided")] == [SUPPORT]
    shown = b.get("/support/print").text
    assert "voided" in shown and f'action="/support/print/{batch_id}/void"' not in shown
