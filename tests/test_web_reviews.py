"""After a review, on the web: held, decisions sent, record written (the chairing IRO or the IRO
manager only), and the IRO manager's resolve of any escalation — through the same services as
the CLI, audited by email, refused for everyone else with nothing changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from web_client import STORES, TODAY, Browser, make_app, store_url
from web_seed import DEPUTY, GROUP, IRO, IRO_MANAGER, OTHER_IRO, SUPPORT, Seeded

from workers.errors import BadInputError
from workers.store.models import AuditEvent, Deadline, Dispatch, Escalation, Review


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    return make_app(tmp_path, database_url=store_url(request))


def _signed_in(app: Any, email: str, page: str) -> Browser:
    browser = Browser(app)
    assert browser.sign_in(email).status_code == 303
    assert browser.get(page).status_code == 200
    return browser


def _audits(app: Any, action: str) -> list[AuditEvent]:
    with app.state.web.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _review(app: Any, ref: str) -> Review:
    with app.state.web.sessions() as session:
        review = session.scalars(select(Review).where(Review.ref == ref)).one()
        _ = list(review.participants)
        session.expunge_all()
        return review


def test_the_chairing_iro_records_the_review_held_with_who_attended(
        site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _signed_in(app, IRO, "/iro")
    assert f'href="/iro/reviews/{s.ready_review}"' in b.get("/iro").text
    page = b.get(f"/iro/reviews/{s.ready_review}").text
    assert "Record the review as held" in page and "PN7: Child does not attend" in page
    people = {p.role: p.ref for p in _review(app, s.ready_review).participants}
    for ref in people.values():
        assert f'name="attended" value="{ref}"' in page  # a checkbox per person on the record
    form = {"csrf_token": b.csrf, "held_on": TODAY.isoformat(), "participation": "pn1",
            "attended": [people["child"], people["social_worker"]]}
    asked = b.client.post(f"/iro/reviews/{s.ready_review}/held", data=form)
    assert asked.status_code == 200 and "This cannot be undone" in asked.text
    assert "Yes, record it as held" in asked.text and _review(app, s.ready_review).status == \
        "planned"  # nothing yet: the page asks first, carrying the form
    for ref in (people["child"], people["social_worker"]):
        assert f'name="attended" value="{ref}"' in asked.text
    done = b.client.post(f"/iro/reviews/{s.ready_review}/held",
                         data={**form, "confirmed": "yes"})
    assert done.status_code == 303
    shown = b.get(done.headers["location"]).text
    assert f"Review {s.ready_review} recorded as held on 01 December 2026" in shown
    assert "Record decisions sent" in shown and "Record the record written" in shown
    review = _review(app, s.ready_review)
    assert review.status == "held" and review.held_on == TODAY and review.participation == "PN1"
    assert {p.role: p.attended for p in review.participants} == {
        "child": True, "social_worker": True, "parent": False, "carer": False}
    with app.state.web.sessions() as session:
        draft = session.scalars(select(Dispatch).where(
            Dispatch.kind == "review_record", Dispatch.review_id == review.id)).one()
        assert draft.recipient == IRO
        assert session.scalar(select(func.count()).select_from(Review).where(
            Review.child_id == review.child_id, Review.status == "planned")) == 1
    assert [e.actor for e in _audits(app, "review.held")][-1] == IRO
    again = b.post(f"/iro/reviews/{s.ready_review}/held", {"held_on": TODAY.isoformat(),
                                                           "confirmed": "yes"})
    assert again.status_code == 409 and "already held" in again.text


def test_bad_held_input_is_named_and_changes_nothing(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _signed_in(app, IRO, f"/iro/reviews/{s.ready_review}")
    for data, message in (
            ({"held_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "is in the future"),
            ({"held_on": "1/12/2026"}, "Held on: expected a date"),
            ({"participation": "PN9"}, "not an SSDA903 code"),
            ({"attended": "P-99999"}, "P-99999: not a participant ref")):
        response = b.post(f"/iro/reviews/{s.ready_review}/held", {**data, "confirmed": "yes"})
        assert response.status_code in (400, 409) and message in response.text, data
        if "held_on" in data:  # drawn again with what was typed
            assert f'value="{data["held_on"]}"' in response.text
        if "attended" in data:
            assert 'checked' not in response.text.split("Who attended")[1].split("</fieldset>")[0]
    assert _review(app, s.ready_review).status == "planned"
    assert _audits(app, "review.held") and all(
        e.details["review_ref"] != s.ready_review for e in _audits(app, "review.held"))


def test_decisions_sent_and_record_written_stop_their_clocks(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _signed_in(app, IRO, f"/iro/reviews/{s.held_review}")
    future = b.post(f"/iro/reviews/{s.held_review}/decisions-sent",
                    {"met_on": (TODAY + dt.timedelta(days=2)).isoformat()})
    assert future.status_code == 400 and "is in the future" in future.text
    assert f'value="{(TODAY + dt.timedelta(days=2)).isoformat()}"' in future.text
    decisions = b.post(f"/iro/reviews/{s.held_review}/decisions-sent",
                       {"met_on": (TODAY - dt.timedelta(days=25)).isoformat()})
    assert "Decisions sent on 06 November 2026" in b.get(decisions.headers["location"]).text
    record = b.post(f"/iro/reviews/{s.held_review}/recorded", {"met_on": TODAY.isoformat()})
    page = b.get(record.headers["location"]).text
    assert "Review record written on 01 December 2026" in page and "(late)" in page
    with app.state.web.sessions() as session:
        clocks = {d.kind: d for d in session.scalars(select(Deadline).where(
            Deadline.key.startswith(s.held_review + "/")))}
        assert clocks["decisions"].met_on == TODAY - dt.timedelta(days=25)
        assert clocks["record"].met_on == TODAY and clocks["record"].in_time is False
    assert _review(app, s.held_review).status == "recorded"
    assert [e.actor for e in _audits(app, "review.record_met")] == [IRO]
    twice = b.post(f"/iro/reviews/{s.held_review}/recorded", {"met_on": TODAY.isoformat()})
    assert twice.status_code == 409 and "already recorded" in twice.text


def test_the_service_refuses_a_write_up_date_in_the_future(site: tuple[Any, Seeded]) -> None:
    """The CLI's check moved into the service: both callers get it."""
    from workers.reviews.service import stop_writeup

    app, s = site
    with app.state.web.sessions() as session, pytest.raises(BadInputError, match="future"):
        stop_writeup(session, app.state.web.calendar, s.held_review, "record",
                     TODAY + dt.timedelta(days=1), today=TODAY)


@pytest.mark.parametrize("email", [OTHER_IRO, SUPPORT, DEPUTY])
def test_nobody_else_may_record_a_review(site: tuple[Any, Seeded], email: str) -> None:
    app, s = site
    home = {OTHER_IRO: "/iro", SUPPORT: "/support", DEPUTY: "/manager"}[email]
    b = _signed_in(app, email, home)
    for ref in (s.ready_review, s.held_review):
        page = b.get(f"/iro/reviews/{ref}")
        assert page.status_code == 403 and "Only the IRO chairing this review" in page.text
    for path, data in ((f"/iro/reviews/{s.ready_review}/held", {}),
                       (f"/iro/reviews/{s.held_review}/decisions-sent", {}),
                       (f"/iro/reviews/{s.held_review}/recorded", {})):
        assert b.post(path, data).status_code == 403, path
    assert _review(app, s.ready_review).status == "planned"
    assert _review(app, s.held_review).status == "held"
    assert _audits(app, "review.decisions_met") == _audits(app, "review.record_met") == []


def test_the_iro_manager_may_record_for_any_iro(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = _signed_in(app, IRO_MANAGER, "/manager")
    home = b.get("/manager").text
    assert f'href="/iro/reviews/{s.held_review}"' in home  # overdue write-ups link to the review
    done = b.post(f"/iro/reviews/{s.held_review}/decisions-sent", {"met_on": TODAY.isoformat()})
    assert "Decisions sent on" in b.get(done.headers["location"]).text
    assert [e.actor for e in _audits(app, "review.decisions_met")] == [IRO_MANAGER]
    # not the chair's own download: that is the IRO's page
    assert "draft-record.docx" not in b.get(f"/iro/reviews/{s.held_review}").text


def test_only_the_iro_manager_resolves_from_the_manager_pages(site: tuple[Any, Seeded]) -> None:
    app, s = site
    path = f"/manager/escalations/{s.escalation_id}"
    deputy = _signed_in(app, DEPUTY, path)
    assert "Resolve escalation" not in deputy.get(path).text
    refused = deputy.post(f"{path}/resolve", {"outcome": "Sorted."})
    assert refused.status_code == 403 and "only the IRO who raised" in refused.text
    assert [e.actor for e in _audits(app, "escalation.resolve_refused")] == [DEPUTY]
    group = _signed_in(app, GROUP, "/manager")
    assert group.post(f"{path}/resolve", {"outcome": "Sorted."}).status_code == 403
    iro = _signed_in(app, IRO, "/iro")
    assert iro.post(f"{path}/resolve", {"outcome": "Sorted."}).status_code == 403
    with app.state.web.sessions() as session:
        esc = session.get(Escalation, s.escalation_id)
        assert esc is not None and esc.status == "open"

    boss = _signed_in(app, IRO_MANAGER, "/manager")
    home = boss.get("/manager").text
    assert "Every other open escalation" in home and f"ESC-{s.escalation_id}" in home
    page = boss.get(path).text
    assert "Resolve escalation" in page and "Record response" not in page
    empty = boss.post(f"{path}/resolve", {"outcome": " "})
    assert empty.status_code == 400 and "outcome is empty" in empty.text
    done = boss.post(f"{path}/resolve", {"outcome": "Plan updated; agreed with the IRO."})
    assert f"ESC-{s.escalation_id} resolved" in boss.get(done.headers["location"]).text
    with app.state.web.sessions() as session:
        esc = session.get(Escalation, s.escalation_id)
        assert esc is not None and esc.status == "resolved" and esc.resolved_by == IRO_MANAGER
    assert [e.actor for e in _audits(app, "escalation.resolved")] == [IRO_MANAGER]
    again = boss.post(f"{path}/resolve", {"outcome": "Again."})
    assert again.status_code == 409  # the IRO manager is told, not refused as a stranger
