"""One confirmation before a step that cannot be undone, asked by the server; and the send
page offers no "Yes, send" once a review's invitations have gone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from web_client import Browser, make_app
from web_seed import IRO, SUPPORT

from workers.store.models import AuditEvent, Escalation


def test_referring_to_cafcass_is_asked_first_and_then_done(tmp_path: Path) -> None:
    app, seeded = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(IRO)
    path = f"/iro/escalations/{seeded.escalation_id}"
    b.get(path)
    asked = b.post(f"{path}/refer-cafcass")
    assert asked.status_code == 200 and "Refer ESC-" in asked.text
    assert "This cannot be undone" in asked.text and f'href="{path}"' in asked.text  # Cancel
    with app.state.web.sessions() as session:
        assert not session.scalars(select(AuditEvent).where(
            AuditEvent.action.like("escalation.%cafcass%"))).all()
    done = b.post(f"{path}/refer-cafcass", {"confirmed": "yes"})
    assert done.status_code == 303
    with app.state.web.sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
        assert any("cafcass" in a for a in actions), actions
        esc = session.get(Escalation, seeded.escalation_id)
        assert esc is not None and esc.status == "open"


def test_the_send_page_offers_nothing_once_sent(tmp_path: Path) -> None:
    app, seeded = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(SUPPORT)
    page = b.get(f"/support/reviews/{seeded.ready_review}/send").text
    assert "Yes, send" in page
    assert b.post(f"/support/reviews/{seeded.ready_review}/send").status_code == 303
    again = b.get(f"/support/reviews/{seeded.ready_review}/send").text
    assert "Yes, send" not in again and "were already sent" in again
