"""The manager's quality assurance page (issue 20 §4): who is due a chairing observation, the
latest record audits, and the forms that record each through workers/qa/service.py.

The seed (tests/web_seed.py, today 1 Dec 2026) has six IROs in its directory, none observed,
and a review of Daniel's held 30 days ago."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from web_client import Browser, make_app
from web_seed import DEPUTY, IRO, IRO_MANAGER

from workers.store.models import AuditEvent
from workers.store.qa_models import ChairingObservation, RecordAudit


def due_names(page: str) -> list[str]:
    return re.findall(r'<tr class="row-bad"><th scope="row">([^<]+)</th>', page)


def test_observations_due_and_recorded(tmp_path: Path) -> None:
    app, seeded = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(IRO_MANAGER)
    page = b.get("/manager/qa").text
    assert '<a href="/manager/qa"' in page  # in the manager's navigation
    assert "6 IROs due." in page
    assert due_names(page) == ["Aisha Rahman", "Bernadette Kelly", "Daniel Hughes",
                               "Grace Whitfield", "Iris Test", "Tomasz Nowak"]

    sent = b.post("/manager/qa/observations", {"iro_email": IRO, "on": "2026-11-25",
                                               "note": "Good use of the child's words."})
    assert sent.status_code == 303, sent.text
    page = b.get("/manager/qa").text
    assert "Observation of Daniel Hughes on 25 Nov 2026 recorded." in page
    assert "5 IROs due." in page and "Daniel Hughes" not in due_names(page)
    assert "Wed 25 Nov 2026" in page and "Thu 25 Nov 2027" in page  # last, next due

    late = b.post("/manager/qa/observations", {"iro_email": IRO, "on": "2026-12-02"})
    assert late.status_code == 400
    assert "Date 2026-12-02 is after today" in late.text and "--on" not in late.text
    with app.state.web.sessions() as s:
        rows = s.scalars(select(ChairingObservation)).all()
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "qa.observed")).one()
    assert [(r.iro_email, r.by) for r in rows] == [(IRO, IRO_MANAGER)]
    assert event.actor == IRO_MANAGER


def test_audit_form_rates_each_standard(tmp_path: Path) -> None:
    app, seeded = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(DEPUTY)
    page = b.get("/manager/qa").text
    assert "No record has been audited yet." in page
    assert 'name="s_smart_decisions" value="partly"' in page
    wrong = b.post("/manager/qa/audits", {"review_ref": seeded.ready_review, "on": "2026-12-01",
                                          "s_smart_decisions": "met", "note": "Kept"})
    assert wrong.status_code == 400
    assert f"{seeded.ready_review} has not been held" in wrong.text
    assert 'name="s_smart_decisions" value="met" aria-label="Decisions are SMART: Met" checked' \
        in wrong.text and ">Kept</textarea>" in wrong.text  # what was typed is kept
    done = b.post("/manager/qa/audits", {
        "review_ref": seeded.held_review, "on": "2026-12-01", "s_smart_decisions": "partly",
        "s_child_views": "met", "s_record_on_time": "not_met", "s_iro_contact": ""})
    assert done.status_code == 303, done.text
    page = b.get("/manager/qa").text
    assert f"Audit of {seeded.held_review} recorded (3 standards rated)." in page
    found = re.search(rf"<td>{seeded.held_review}</td>(.*?)</tr>", page, flags=re.S)
    assert found
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>",
                                                                    found.group(1), flags=re.S)]
    assert cells[1:] == ["Daniel Hughes", "Tue 1 Dec 2026", "1", "1", "1"]
    with app.state.web.sessions() as s:
        row = s.scalars(select(RecordAudit)).one()
    assert row.ratings == {"record_on_time": "not_met", "smart_decisions": "partly",
                           "child_views": "met"}
    assert row.by == DEPUTY


def test_only_managers(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(IRO)
    assert b.get("/manager/qa").status_code == 403
    assert b.post("/manager/qa/observations", {"iro_email": IRO}).status_code == 403
