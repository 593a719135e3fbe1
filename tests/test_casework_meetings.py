"""Issue 16, a meeting moved or a review cancelled after the mail-out: letters not yet gone carry
the new arrangements, those already invited get a change of arrangements (or cancellation)
letter, reminders move with the meeting and none is sent for the old date. Real SQLite store,
shipped rules and Word templates, a real SMTP server."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from casework_support import BSO, NOW, Case
from docx import Document
from factories import make_case, sqlite_store, sqlite_url
from fakes.smtp import SmtpServer
from mailout_support import CAL, CONFIG, RULES, TODAY, make_config
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_config_cli import run_iro

from workers.casework.meetings import move_review
from workers.casework.notices import CANCEL_KIND, CHANGE_KIND
from workers.core.clock import LONDON
from workers.core.planning import mailout_dates
from workers.errors import RefusedError
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.mailout.service import run_mailout
from workers.queue.dispatching import Dispatcher
from workers.store.models import AuditEvent, Dispatch, Participant, Review

NEW_DAY = dt.date(2027, 1, 19)  # from Tuesday 12 January 2027


def invitation_of(session: Session, role: str) -> Dispatch:
    person = session.scalars(select(Participant).where(Participant.role == role)).one()
    return session.scalars(select(Dispatch).where(Dispatch.participant_id == person.id,
                                                  Dispatch.kind == INVITATION_KIND)).one()


def attachment_text(msg: object) -> str:
    [part] = list(msg.iter_attachments())  # type: ignore[attr-defined]
    return "\n".join(p.text for p in Document(io.BytesIO(part.get_content())).paragraphs)


def test_a_moved_meeting_tells_the_invited_and_moves_the_reminders(
        case: Case, send: Dispatcher, smtp_server: SmtpServer) -> None:
    sessions, cfg, ref = case
    with sessions() as s:
        carer_letter = invitation_of(s, "carer").id
        old_reminders = {d.id: d.due_at.date() for d in s.scalars(
            select(Dispatch).where(Dispatch.kind == REMINDER_KIND))}
    assert send.process(carer_letter).kind == "sent"  # the carer has been invited
    smtp_server.wait_for(1)
    with sessions() as s:
        done = move_review(s, cfg, ref, date=NEW_DAY, time=dt.time(14), venue="Civic Centre, "
                           "Room 5", today=TODAY, now=NOW, actor=BSO)
        s.commit()
    new_dates = mailout_dates(RULES.mailout, CAL, review_on=NEW_DAY)
    assert len(done.letters_replanned) == 5 and len(done.notices) == 1
    assert sorted(done.reminders_cancelled) == sorted(old_reminders)
    with sessions() as s:
        review = s.scalars(select(Review).where(Review.ref == ref)).one()
        assert review.scheduled_at == dt.datetime(2027, 1, 19, 14, tzinfo=LONDON).astimezone(
            dt.UTC)
        rows = s.scalars(select(Dispatch).order_by(Dispatch.id)).all()
        live = [d for d in rows if d.state == "pending"]
        reminders = [d for d in live if d.kind == REMINDER_KIND]
        # the reminders are those of the new day only; none for the old date
        assert len(reminders) == 4
        assert {d.due_at.astimezone(LONDON).date() for d in reminders} == {
            r.on for r in new_dates.reminders}
        assert not {d.id for d in reminders} & set(old_reminders)
        assert {d.params["return_by"] for d in live if d.kind != CHANGE_KIND} == {
            new_dates.return_by.isoformat()}
        [notice] = [d for d in rows if d.kind == CHANGE_KIND]
        assert notice.state == "pending" and notice.params["previous_at"] == "2027-01-12T10:00:00"
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "review.moved")
                         ).one().actor == BSO
        notice_id = notice.id
    assert send.process(notice_id).kind == "sent"
    [_, msg] = smtp_server.wait_for(2)
    subject = str(msg["Subject"])
    assert "change of arrangements" in subject and "19 January 2027" in subject
    body = msg.get_body(("plain",)).get_content()
    assert "Tuesday 12 January 2027" in body and "Tuesday 19 January 2027 at 2pm" in body
    text = attachment_text(msg)
    assert "will now be held on Tuesday 19 January 2027 at 2pm, at Civic Centre, Room 5" in text
    assert "Please note the new venue" in text
    [part] = list(msg.iter_attachments())
    # titled for its reader, as the mail-out's letters are (what a screen reader announces)
    title = Document(io.BytesIO(part.get_content())).core_properties.title
    assert title.startswith("Change of arrangements: ") and "(" in title, title


def test_moved_twice_before_the_letter_goes_one_letter_from_the_first_date(case: Case) -> None:
    sessions, cfg, ref = case
    with sessions() as s:
        invitation_of(s, "carer").state = "sent"
        s.commit()
        move_review(s, cfg, ref, date=NEW_DAY, time=None, venue=None, today=TODAY, now=NOW,
                    actor=BSO)
        move_review(s, cfg, ref, date=dt.date(2027, 1, 21), time=None, venue=None, today=TODAY,
                    now=NOW, actor=BSO)
        s.commit()
        notices = s.scalars(select(Dispatch).where(Dispatch.kind == CHANGE_KIND)
                            .order_by(Dispatch.id)).all()
        assert [(d.state, d.params["previous_at"]) for d in notices] == [
            ("cancelled", "2027-01-12T10:00:00"), ("pending", "2027-01-12T10:00:00")]
        assert notices[1].params["venue_changed"] is False


def test_a_cancelled_review_cancels_what_has_not_gone_and_tells_the_invited(
        case: Case, send: Dispatcher, smtp_server: SmtpServer, tmp_path: Path) -> None:
    sessions, cfg, ref = case
    with sessions() as s:
        carer_letter = invitation_of(s, "carer").id
    assert send.process(carer_letter).kind == "sent"
    smtp_server.wait_for(1)
    env = {"IRO_CONFIG_DIR": str(CONFIG), "IRO_DATABASE_URL": sqlite_url(tmp_path)}
    done = run_iro(tmp_path, "review", "cancel", ref, "--reason", "child returned home",
                   "--actor", BSO, **env)
    assert done.returncode == 0, done.stderr
    assert f"review {ref}: cancelled" in done.stdout and "1 letters to those already invited" \
        in done.stdout
    with sessions() as s:
        review = s.scalars(select(Review).where(Review.ref == ref)).one()
        assert review.status == "cancelled"
        rows = s.scalars(select(Dispatch)).all()
        states = {(d.kind, d.state) for d in rows if d.id != carer_letter}
        assert states == {(INVITATION_KIND, "cancelled"), (REMINDER_KIND, "cancelled"),
                          (CANCEL_KIND, "pending")}
        [notice_row] = [d for d in rows if d.kind == CANCEL_KIND]
        notice, notice_row.due_at = notice_row.id, NOW  # the CLI ran on the machine's clock
        s.commit()
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.cancelled")).one()
        assert event.actor == BSO and event.details["reason"] == "child returned home"
        with pytest.raises(RefusedError):
            move_review(s, cfg, ref, date=NEW_DAY, time=None, venue=None, today=TODAY, now=NOW,
                        actor=BSO)
    assert send.process(notice).kind == "sent"
    [_, msg] = smtp_server.wait_for(2)
    assert "meeting cancelled" in str(msg["Subject"])
    assert "has been cancelled and will not take place" in attachment_text(msg)


def test_cli_move_says_what_it_did(case: Case, tmp_path: Path) -> None:
    _, _, ref = case
    env = {"IRO_CONFIG_DIR": str(CONFIG), "IRO_DATABASE_URL": sqlite_url(tmp_path)}
    done = run_iro(tmp_path, "review", "move", ref, "--date", "2099-01-19", "--time", "14:00",
                   "--actor", BSO, **env)
    assert done.returncode == 0, done.stderr
    assert f"review {ref}: meeting moved" in done.stdout
    assert "6 letters not yet sent will carry the new arrangements" in done.stdout
    bad = run_iro(tmp_path, "review", "move", ref, "--time", "2pm", **env)
    assert bad.returncode == 2 and "--time" in bad.stderr


def test_a_review_with_no_meeting_date_waits_for_one(tmp_path: Path) -> None:
    # `iro review held` plans the next review with no meeting yet: the scheduler must not send
    # "held on  at , at Carer's home"; the mail-out waits, and `iro deadlines` says why
    from factories import make_child, make_participant, make_review

    from workers.errors import RefusedError
    from workers.mailout.jobs import run_due
    from workers.reviews.held import mailout_key
    from workers.store import keyed
    from workers.store.deadline_queries import due_items

    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_review(s, make_child(s), scheduled_at=None)
        make_participant(s, review, "social_worker")
        keyed.ensure_deadline(s, mailout_key(review.ref), kind="mailout", review_id=review.id,
                              started_on=TODAY, due_on=TODAY, statutory=False)
        ref = review.ref
        s.commit()
    cfg = make_config(tmp_path)
    assert run_due(sessions, cfg, TODAY) == 0
    with pytest.raises(RefusedError, match="waiting for a meeting date"):
        run_mailout(sessions, cfg, ref)
    with sessions() as s:
        [item] = [i for i in due_items(s, CAL, RULES.review_timescales, today=TODAY)
                  if i.kind == "mailout"]
        assert item.planned is False  # shown as "mailout (waiting for a meeting date)"
        move_review(s, cfg, ref, date=NEW_DAY, time=dt.time(10), venue=None, today=TODAY,
                    now=NOW, actor=BSO)
        s.commit()
        assert s.scalars(select(Dispatch)).all() == []  # nobody was invited: no letters
        due = keyed.deadline_by_key(s, mailout_key(ref))
        assert due is not None  # the invitation day follows the new meeting
        invitations_on = mailout_dates(RULES.mailout, CAL, review_on=NEW_DAY).invitations_on
        assert due.due_on == invitations_on
    assert run_due(sessions, cfg, invitations_on) > 0  # now it goes


def test_an_early_review_after_the_mail_out_goes_through_move(case: Case) -> None:
    # `iro review schedule` would have left the reminders on the old date
    from workers.reviews.service import schedule_early

    sessions, _, ref = case
    with sessions() as s:
        child_ref = s.scalars(select(Review).where(Review.ref == ref)).one().child.ref
        with pytest.raises(RefusedError, match=f"use `iro review move {ref} --date 2027-01-05`"):
            schedule_early(s, RULES, CAL, child_ref, dt.date(2027, 1, 5), today=TODAY)


@pytest.mark.postgres
def test_the_casework_changes_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    # the store production runs: JSON params rewritten, LIKE keys, conditional cancels
    from factories import postgres_store

    from workers.casework.corrections import correct_contact, withdraw_participant
    from workers.casework.letters import resend

    sessions = postgres_store(pg_database)
    with sessions() as s:
        ref = make_case(s).ref
        s.commit()
    cfg = make_config(tmp_path)
    run_mailout(sessions, cfg, ref)
    with sessions() as s:
        carer = invitation_of(s, "carer")
        carer.state, carer_id = "bounced", carer.id
        invitation_of(s, "social_worker").state = "sent"
        s.commit()
        person_ref = s.get(Participant, carer.participant_id).ref  # type: ignore[union-attr]
        correct_contact(s, ref, person_ref, {"email": "carer.new@council.example.gov.uk"},
                        allowed_domains=cfg.allowed_domains, now=NOW, actor=BSO)
        new = resend(s, carer_id, channel=None, allowed_domains=cfg.allowed_domains, now=NOW,
                     actor=BSO)
        assert new.key.endswith("/resend-1")
        parent = s.scalars(select(Participant).where(Participant.role == "parent")).one().ref
        [gone] = withdraw_participant(s, ref, parent, reason="ended", today=TODAY, now=NOW,
                                      actor=BSO)
        moved = move_review(s, cfg, ref, date=NEW_DAY, time=None, venue=None, today=TODAY,
                            now=NOW, actor=BSO)
        s.commit()
        assert len(gone.cancelled) == 2 and len(moved.notices) == 1  # the social worker's
        assert s.scalar(select(Dispatch.recipient).where(Dispatch.id == new.id)) == \
            "carer.new@council.example.gov.uk"
