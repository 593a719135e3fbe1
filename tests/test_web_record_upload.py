"""The completed review record uploaded on the review's page (issue 15 §1): kept with the case,
its decisions read into the store; one that cannot be read is kept and the page says why."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_review_record_decisions import DECISIONS, fill_decisions
from web_client import Browser, make_app
from web_seed import IRO, OTHER_IRO, Seeded

from workers.store.models import AuditEvent, Dispatch, Review, ReviewDecision


@pytest.fixture
def site(tmp_path: Path) -> tuple[Any, Seeded]:
    return make_app(tmp_path)


def _upload(b: Browser, review: str, data: bytes) -> Any:
    return b.client.post(f"/iro/reviews/{review}/record-file",
                         data={"csrf_token": b.csrf, "written_on": ""},
                         files={"record": ("Zoe record.docx", io.BytesIO(data),
                                           "application/octet-stream")})


def test_the_iro_uploads_the_completed_record(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = Browser(app)
    assert b.sign_in(IRO).status_code == 303
    page = b.get(f"/iro/reviews/{s.held_review}")
    assert "Upload the record" in page.text
    draft = b.get(f"/iro/reviews/{s.held_review}/draft-record.docx").content

    bad = _upload(b, s.held_review, b"not a word file")
    text = b.get(bad.headers["location"]).text
    assert "The completed record: not a Word document (.docx)" in text
    assert "The file is kept with the case" in text

    done = _upload(b, s.held_review, fill_decisions(draft, DECISIONS))
    assert "2 decision(s) read from it" in b.get(done.headers["location"]).text
    with app.state.web.sessions() as session:
        review = session.scalars(select(Review).where(Review.ref == s.held_review)).one()
        assert review.status == "recorded" and review.record_file
        kept = Path(review.record_file)
        assert kept.name == "record-2.docx" and "Zoe" not in str(kept)  # no sender's name
        rows = session.scalars(select(ReviewDecision).where(
            ReviewDecision.review_id == review.id)).all()
        assert [r.action for r in rows] == [d[1] for d in DECISIONS]
        actors = [e.actor for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_record.returned"))]
        assert actors == [IRO, IRO]


def test_another_iro_may_not_upload(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = Browser(app)
    assert b.sign_in(OTHER_IRO).status_code == 303
    b.get("/iro")
    assert _upload(b, s.held_review, b"x").status_code == 403


def test_the_iro_confirms_the_list_and_the_copies_are_planned(site: tuple[Any, Seeded]) -> None:
    app, s = site
    b = Browser(app)
    assert b.sign_in(IRO).status_code == 303
    b.get(f"/iro/reviews/{s.held_review}")
    draft = b.get(f"/iro/reviews/{s.held_review}/draft-record.docx").content
    _upload(b, s.held_review, fill_decisions(draft, DECISIONS))
    page = b.get(f"/iro/reviews/{s.held_review}").text
    assert "Send the record" in page and "not sent" in page
    unconfirmed = b.post(f"/iro/reviews/{s.held_review}/distribute", {})
    assert "nothing was sent" in b.get(unconfirmed.headers["location"]).text
    with app.state.web.sessions() as session:
        assert session.scalars(select(Dispatch).where(
            Dispatch.kind == "review_record_copy")).all() == []
    sent = b.post(f"/iro/reviews/{s.held_review}/distribute", {"confirm": "yes"})
    text = b.get(sent.headers["location"]).text
    assert "copies planned" in text
    with app.state.web.sessions() as session:
        rows = session.scalars(select(Dispatch).where(
            Dispatch.kind == "review_record_copy")).all()
        assert rows and all(r.key.startswith(f"{s.held_review}/record/") for r in rows)
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_record.distributed")).all()
        assert [e.actor for e in events] == [IRO]
    assert "planned" in b.get(f"/iro/reviews/{s.held_review}").text
