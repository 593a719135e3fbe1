"""Each role's actions through the HTTP app: the same services as the CLI, audited by email."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_client import STORES, Browser, make_app, store_url
from web_seed import DEPUTY, IRO, SUPPORT, Seeded

from workers.mailout.plan import INVITATION_KIND
from workers.store.models import AuditEvent, Dispatch, Escalation, Participant, Return

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    return make_app(tmp_path, database_url=store_url(request))


def _audits(app: Any, action: str) -> list[AuditEvent]:
    with app.state.web.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _browser(app: Any, email: str, home: str) -> Browser:
    browser = Browser(app)
    assert browser.sign_in(email).headers["location"] == home
    browser.get(home)
    return browser


def test_support_sends_invitations_after_confirming_and_sees_progress(
        site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _browser(app, SUPPORT, "/support")
    listing = b.get("/support").text
    assert s.ready_review in listing and "not started" in listing
    review = b.get(f"/support/reviews/{s.ready_review}").text
    assert "Preflight passed" in review and "Send invitations" in review
    confirm = b.get(f"/support/reviews/{s.ready_review}/send").text
    assert "Yes, send 4 invitations" in confirm
    sent = b.post(f"/support/reviews/{s.ready_review}/send")
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/support/reviews/{s.ready_review}"
    page = b.get(sent.headers["location"]).text
    assert "queued: 4 letters" in page and "0 of 4 sent" in page
    assert 'hx-trigger="every 2s"' in page  # polls while letters are on their way
    # the status line is a live region the poll never replaces; while nothing has changed the
    # poll is answered 204 (htmx swaps nothing), so a screen reader hears only news
    assert '<p id="progress-status" class="progress-line" role="status"' in page
    seen = re.search(r'/progress\?seen=([0-9a-f]+)"', page)
    assert seen and b.get(f"/support/reviews/{s.ready_review}/progress?seen="
                          f"{seen.group(1)}").status_code == 204
    with app.state.web.sessions() as session:
        letters = list(session.scalars(select(Dispatch).where(
            Dispatch.kind == INVITATION_KIND, Dispatch.key.startswith(s.ready_review))))
        assert len(letters) == 4
        for d in letters:  # as the worker would
            d.state = "sent"
        session.commit()
    fragment = b.get(f"/support/reviews/{s.ready_review}/progress",
                     headers={"HX-Request": "true"}).text
    assert "4 of 4 sent" in fragment and "finished" in fragment
    assert 'id="progress-status" hx-swap-oob="innerHTML"' in fragment  # the news, into it
    assert "hx-trigger" not in fragment  # polling stops when every letter is done
    assert "<html" not in fragment
    assert [e.actor for e in _audits(app, "mailout.queued")] == [SUPPORT]
    # a second send queues nothing
    again = b.post(f"/support/reviews/{s.ready_review}/send")
    assert "already queued" in b.get(again.headers["location"]).text


def test_support_sees_the_preflight_problems_and_cannot_send(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _browser(app, SUPPORT, "/support")
    page = b.get(f"/support/reviews/{s.broken_review}").text
    assert "Preflight found problems" in page and "allow-list" in page
    refused = b.post(f"/support/reviews/{s.broken_review}/send")
    assert refused.status_code == 400 and "nothing was sent or queued" in refused.text


def test_support_records_a_return_by_code(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _browser(app, SUPPORT, "/support")
    b.post(f"/support/reviews/{s.ready_review}/send")
    with app.state.web.sessions() as session:
        letter = session.scalars(select(Dispatch).where(
            Dispatch.kind == INVITATION_KIND, Dispatch.key.startswith(s.ready_review),
            Dispatch.reference_code.is_not(None))).first()
        assert letter is not None and letter.reference_code
        letter.state = "sent"
        letter.sent_at = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
        code, letter_id = letter.reference_code, letter.id
        person = session.get(Participant, letter.participant_id)
        assert person is not None
        person_ref, role = person.ref, person.role.replace("_", " ")
        session.commit()
    page = b.get(f"/support/reviews/{s.ready_review}/returns").text
    assert code in page and "Record return" in page
    # before it was sent: refused, nothing recorded
    early = b.post(f"/support/reviews/{s.ready_review}/returns",
                   {"code": code, "received_on": "2026-11-19"})
    assert early.status_code == 409 and "sent on 2026-11-20" in early.text
    # first what to check against the paper, then the confirmation records it
    check = b.post(f"/support/reviews/{s.ready_review}/returns",
                   {"code": code.lower(), "received_on": "2026-11-30"})
    assert check.status_code == 200 and person_ref in check.text and role in check.text
    assert s.ready_review in check.text and "Yes, record the return" in check.text
    assert _audits(app, "return.recorded") == []
    done = b.post(f"/support/reviews/{s.ready_review}/returns",
                  {"code": code.lower(), "received_on": "2026-11-30", "confirmed": "yes"})
    assert done.status_code == 303
    shown = b.get(done.headers["location"]).text
    assert f"Form {code} recorded as returned" in shown
    with app.state.web.sessions() as session:
        ret = session.scalars(select(Return).where(Return.dispatch_id == letter_id)).one()
        assert ret.channel == "post" and ret.received_on.isoformat() == "2026-11-30"
    assert [e.actor for e in _audits(app, "return.recorded")] == [SUPPORT]
    twice = b.post(f"/support/reviews/{s.ready_review}/returns", {"code": code})
    assert twice.status_code == 409 and "already recorded" in twice.text
    assert f'value="{code}"' in twice.text  # what was typed stays in the form
    # a code from another review is refused, not recorded against this one
    other = b.post(f"/support/reviews/{s.broken_review}/returns", {"code": code})
    assert other.status_code == 409 and "belongs to another review" in other.text


def test_support_retries_a_failed_letter(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _browser(app, SUPPORT, "/support")
    page = b.get("/support/dispatches").text
    assert "refused the address (550)" in page
    done = b.post(f"/support/dispatches/{s.failed_dispatch_id}/retry")
    assert "will be sent again" in b.get(done.headers["location"]).text
    with app.state.web.sessions() as session:
        d = session.get(Dispatch, s.failed_dispatch_id)
        assert d is not None and d.state == "pending"
    assert [e.actor for e in _audits(app, "dispatch.retried")] == [SUPPORT]
    assert "No failed or bounced letters" in b.get("/support/dispatches").text


def test_support_import_shows_row_errors_and_imports_nothing(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    b = _browser(app, SUPPORT, "/support")
    b.get("/support/import")
    good = (ROOT / "examples" / "reviews.csv").read_bytes()
    lines = good.decode("utf-8").splitlines(keepends=True)
    broken = (lines[0] + lines[1].replace("2018-05-14", "2018-13-45", 1)).encode("utf-8")
    response = b.post("/support/import", files={"file": ("export.csv", io.BytesIO(broken))})
    assert response.status_code == 400
    assert "export.csv: 1 error" in response.text and "line 2, column child_dob" in response.text
    assert _audits(app, "import.completed") == []
    checked = b.post("/support/import", {"dry_run": "true"},
                     files={"file": ("reviews.csv", io.BytesIO(good))})
    assert "all correct" in checked.text
    done = b.post("/support/import", files={"file": ("reviews.csv", io.BytesIO(good))})
    assert done.status_code == 200 and "rows imported" in done.text
    assert "R-1001-5" in b.get("/support").text


def _finished_job(b: Browser) -> str:
    """The print job's fragment once the background build has ended (polled as htmx does)."""
    import time

    for _ in range(600):
        fragment = b.get("/support/print/job").text
        if "Building the print batch" not in fragment:
            return str(fragment)
        time.sleep(0.1)
    raise AssertionError("the print batch was still being built after a minute")


def test_print_batch_built_downloaded_and_marked_posted(tmp_path: Path, soffice: str) -> None:
    app, s = make_app(tmp_path, pdf=True)
    b = _browser(app, SUPPORT, "/support")
    b.post(f"/support/reviews/{s.ready_review}/send")
    assert "<strong>2</strong> postal letters" in b.get("/support/print").text
    built = b.post("/support/print/build")
    assert built.headers["location"] == "/support/print"
    assert "Print batch 1: 2 letters" in _finished_job(b)
    pdf = b.get("/support/print/1/batch.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    manifest = b.get("/support/print/1/manifest.csv").text
    assert manifest.startswith("sequence,dispatch_id") and "Quillfeather" not in manifest
    b.get("/support/print")
    asked = b.post("/support/print/1/printed")
    assert "Record print batch 1 as printed and posted?" in asked.text
    assert "Yes, record 2 letters as posted" in asked.text
    assert not _audits(app, "dispatch.printed")  # nothing until it is confirmed
    b.post("/support/print/1/printed", {"confirmed": "yes"})
    assert "recorded as posted" in b.get("/support/print").text
    assert {e.actor for e in _audits(app, "dispatch.printed")} == {SUPPORT}
    assert [e.details["part"] for e in _audits(app, "print_batch.downloaded")] == [
        "batch.pdf", "manifest.csv"]


def test_iro_caseload_draft_record_and_escalation_steps(site: tuple[Any, Seeded]) -> None:
    from docx import Document

    app, s = site
    b = _browser(app, IRO, "/iro")
    page = b.get("/iro").text
    assert s.held_review in page and "overdue since" in page and s.my_child in page
    doc = b.get(f"/iro/reviews/{s.held_review}/draft-record.docx")
    assert doc.status_code == 200 and "attachment" in doc.headers["content-disposition"]
    document = Document(io.BytesIO(doc.content))
    text = "\n".join([p.text for p in document.paragraphs] + [
        c.text for t in document.tables for r in t.rows for c in r.cells])
    assert "Prepared for Daniel Hughes" in text and "PN1" in text
    assert [e.actor for e in _audits(app, "review_record.downloaded")] == [IRO]

    b.get("/iro/escalations")
    raised = b.post("/iro/escalations", {"child_ref": s.my_child, "category": "other",
                                         "concern": "Contact arrangements not reviewed."})
    new_id = int(raised.headers["location"].rsplit("/", 1)[1])
    b.get(raised.headers["location"])
    asked = b.post(f"/iro/escalations/{new_id}/advance")
    assert asked.status_code == 200 and "Advance ESC-" in asked.text and "to the next stage" \
        in asked.text
    advanced = b.post(f"/iro/escalations/{new_id}/advance", {"confirmed": "yes"})
    assert "stage deputy manager" in b.get(advanced.headers["location"]).text
    empty = b.post(f"/iro/escalations/{new_id}/resolve", {"outcome": " "})
    assert empty.status_code == 400 and 'class="flash error"' in empty.text
    resolved = b.post(f"/iro/escalations/{new_id}/resolve", {"outcome": "Plan agreed."})
    assert "resolved" in b.get(resolved.headers["location"]).text
    with app.state.web.sessions() as session:
        esc = session.get(Escalation, new_id)
        assert esc is not None and esc.status == "resolved" and esc.resolved_by == IRO
        actions = [(e.action, e.actor) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.subject_type == "escalation",
                                     AuditEvent.subject_id == new_id).order_by(AuditEvent.id))]
    assert ("escalation.raised", IRO) in actions and ("escalation.advanced", IRO) in actions
    assert ("escalation.resolved", IRO) in actions


def test_manager_responds_and_sees_overdue_write_ups_and_the_report(
        site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _browser(app, DEPUTY, "/manager")
    home = b.get("/manager").text
    assert f"ESC-{s.escalation_id}" in home and s.held_review in home
    page = b.get(f"/manager/escalations/{s.escalation_id}").text
    assert "pathway plan has not been updated" in page and "Record response" in page
    done = b.post(f"/manager/escalations/{s.escalation_id}/respond",
                  {"text": "Social worker to update the plan by Friday."})
    assert "response to ESC-" in b.get(done.headers["location"]).text
    assert f"ESC-{s.escalation_id}" in b.get("/manager").text.split("Answered")[1]
    assert [e.actor for e in _audits(app, "escalation.responded")] == [DEPUTY]
    report = b.get("/manager/report?start=2026-04-01&end=2027-03-31")
    assert report.status_code == 200 and "Reviews held" in report.text
    chart = b.get("/manager/report/chart/escalations.png?start=2026-04-01&end=2027-03-31")
    assert chart.headers["content-type"] == "image/png" and chart.content[:4] == b"\x89PNG"
    bad = b.get("/manager/report?start=2027-04-01&end=2026-03-31")
    assert bad.status_code == 400
