"""Issue 16 on the failed letters page: business support resends a bounced letter to the
corrected address, or cancels one with a reason, each audited with the signed-in person."""

from __future__ import annotations

from pathlib import Path

from factories import make_participant
from sqlalchemy import select
from test_web_flows import _browser
from web_client import make_app
from web_seed import SUPPORT

from workers.store.models import AuditEvent, Dispatch, Review


def test_support_resends_a_bounced_letter_and_cancels_another(tmp_path: Path) -> None:
    app, s = make_app(tmp_path)
    with app.state.web.sessions() as session:
        review = session.scalars(select(Review).where(Review.ref == s.ready_review)).one()
        person = make_participant(session, review, "carer",
                                  email="carer.old@council.example.gov.uk")
        rows = [Dispatch(key=f"{review.ref}/mailout/{person.ref}/{n}", kind="mailout_invitation",
                         channel="email", state="bounced", review_id=review.id,
                         participant_id=person.id, recipient="carer.old@council.example.gov.uk",
                         due_at=app.state.web.clock.now(), params={"return_by": "2027-01-05"})
                for n in ("invitation", "other")]
        session.add_all(rows)
        person.email = "carer.new@council.example.gov.uk"  # the record corrected
        session.commit()
        bounced, other = rows[0].id, rows[1].id
    b = _browser(app, SUPPORT, "/support")
    page = b.get("/support/dispatches").text
    assert f"/support/dispatches/{bounced}/resend" in page
    done = b.post(f"/support/dispatches/{bounced}/resend", {"by": ""})
    assert f"Letter {bounced} resent by email" in b.get(done.headers["location"]).text
    done = b.post(f"/support/dispatches/{other}/cancel", {"reason": "sent twice by mistake"})
    assert f"Letter {other} cancelled" in b.get(done.headers["location"]).text
    refused = b.post(f"/support/dispatches/{other}/resend", {"by": "post"})
    assert "cancelled" in b.get(refused.headers["location"]).text  # nothing changed
    with app.state.web.sessions() as session:
        new = session.scalars(select(Dispatch).where(Dispatch.key.like("%/resend-1"))).one()
        assert (new.state, new.recipient) == ("pending", "carer.new@council.example.gov.uk")
        events = {e.action: e.actor for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(("dispatch.resent", "dispatch.cancelled"))))}
    assert events == {"dispatch.resent": SUPPORT, "dispatch.cancelled": SUPPORT}


def test_support_moves_then_cancels_a_review_and_withdraws_someone(tmp_path: Path) -> None:
    from workers.mailout.plan import INVITATION_KIND
    from workers.mailout.service import run_mailout
    from workers.store.models import Participant

    app, s = make_app(tmp_path)
    web = app.state.web
    run_mailout(web.sessions, web.mailout, s.ready_review)
    with web.sessions() as session:
        letter = session.scalars(select(Dispatch).where(
            Dispatch.kind == INVITATION_KIND, Dispatch.participant_id.is_not(None))
            .order_by(Dispatch.id)).first()
        assert letter is not None
        letter.state = "sent"
        invited = session.get(Participant, letter.participant_id)
        assert invited is not None
        others = session.scalars(select(Participant).join(Review).where(
            Review.ref == s.ready_review, Participant.id != invited.id)).all()
        leaving = others[0].ref
        session.commit()
    b = _browser(app, SUPPORT, "/support")
    page = b.get(f"/support/reviews/{s.ready_review}").text
    assert "Move the meeting" in page and "Cancel the review" in page
    moved = b.post(f"/support/reviews/{s.ready_review}/move",
                   {"date": "2027-02-02", "time": "14:00", "venue": ""})
    shown = b.get(moved.headers["location"]).text
    assert "Meeting moved" in shown and "1 letters to those already invited" in shown
    fixed = b.post(f"/support/reviews/{s.ready_review}/correct",
                   {"participant": invited.ref, "email": "moved.on@council.example.gov.uk",
                    "address": "", "postcode": "", "channel": "email"})
    assert f"{invited.ref} contact changed" in b.get(fixed.headers["location"]).text
    bad = b.post(f"/support/reviews/{s.ready_review}/correct",
                 {"participant": invited.ref, "email": "x@elsewhere.example"})
    assert "allow-list" in b.get(bad.headers["location"]).text
    gone = b.post(f"/support/reviews/{s.ready_review}/participants/{leaving}/withdraw",
                  {"reason": "no longer involved"})
    assert f"{leaving} removed" in b.get(gone.headers["location"]).text
    done = b.post(f"/support/reviews/{s.ready_review}/cancel", {"reason": "child went home"})
    assert "Review cancelled" in b.get(done.headers["location"]).text
    with web.sessions() as session:
        review = session.scalars(select(Review).where(Review.ref == s.ready_review)).one()
        assert review.status == "cancelled"
        actors = {e.action: e.actor for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(("review.moved", "participant.withdrawn", "review.cancelled",
                                   "participant.contact_changed"))))}
    assert actors == {"review.moved": SUPPORT, "participant.withdrawn": SUPPORT,
                      "review.cancelled": SUPPORT, "participant.contact_changed": SUPPORT}


def test_a_review_with_no_meeting_shows_its_mail_out_waiting(tmp_path: Path) -> None:
    # `iro review held` plans the next review with no meeting: business support sees why its
    # mail-out has not gone, on the list and on the review's page (issue 16 §4)
    app, s = make_app(tmp_path)
    with app.state.web.sessions() as session:
        review = session.scalars(select(Review).where(Review.ref == s.ready_review)).one()
        review.scheduled_at = None
        session.commit()
    b = _browser(app, SUPPORT, "/support")
    listed = b.get(f"/support?q={s.ready_review}").text
    assert "Mail-out waiting for a meeting date" in listed
    page = b.get(f"/support/reviews/{s.ready_review}").text
    assert "not booked" in page and "Mail-out waiting for a meeting date" in page
    with app.state.web.sessions() as session:  # the seed's held review planned one more
        unbooked = [r.ref for r in session.scalars(select(Review).where(
            Review.status == "planned")) if r.scheduled_at is None or not r.venue.strip()]
    assert len(unbooked) == 2
    listed = b.get("/support?size=100").text  # reviews with a meeting booked do not say it
    assert listed.count("Mail-out waiting for a meeting date") == len(unbooked)


def test_the_chair_corrects_the_date_held_on_the_review_page(tmp_path: Path) -> None:
    import datetime as dt

    from web_seed import IRO, OTHER_IRO

    app, s = make_app(tmp_path)
    page = f"/iro/reviews/{s.held_review}"
    b = _browser(app, IRO, "/iro")
    assert "Correct the date held" in b.get(page).text
    saturday = b.post(f"{page}/correct/held", {"held_on": "2026-10-31"})
    assert "2026-10-31 is a Saturday" in b.get(saturday.headers["location"]).text
    done = b.post(f"{page}/correct/held", {"held_on": "2026-10-30"})
    assert "the date held is now 30 October 2026" in b.get(done.headers["location"]).text
    with app.state.web.sessions() as session:
        review = session.scalars(select(Review).where(Review.ref == s.held_review)).one()
        assert review.held_on == dt.date(2026, 10, 30)
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "review.held_corrected")).one()
        assert (event.actor, event.details["old"]) == (IRO, "2026-11-01")
    other = _browser(app, OTHER_IRO, "/iro")  # not their review
    assert other.post(f"{page}/correct/held", {"held_on": "2026-10-29"}).status_code == 403
