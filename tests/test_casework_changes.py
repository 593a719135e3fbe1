"""Issue 16, a case changed after its mail-out: a corrected email or a channel switch re-plans the
letters not yet gone (after the preflight rule), a letter that went to the old contact is named in
the audit; a participant withdrawn by hand or left out of the next import has what was not sent
cancelled, and the import says so. Real SQLite store, shipped rules and templates, real SMTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from casework_support import BSO, NOW, Case
from factories import sqlite_store, sqlite_url
from fakes.smtp import SmtpServer
from mailout_support import CONFIG, TODAY, make_config
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_config_cli import run_iro
from test_import import context, example_rows, to_csv  # noqa: F401 - context is a fixture

from workers.casework.corrections import correct_contact, withdraw_participant
from workers.casework.imports import after_import
from workers.errors import PreflightError
from workers.importer.rows import ImportContext, parse_reviews_csv
from workers.importer.upsert import upsert_plan
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.mailout.service import run_mailout
from workers.queue.dispatching import Dispatcher
from workers.store.models import AuditEvent, Dispatch, Participant, Review


def rows_of(session: Session, role: str) -> tuple[Participant, list[Dispatch]]:
    person = session.scalars(select(Participant).where(Participant.role == role)).one()
    return person, list(session.scalars(select(Dispatch).where(
        Dispatch.participant_id == person.id).order_by(Dispatch.id)))


def test_a_corrected_email_takes_the_letters_not_yet_gone(
        case: Case, send: Dispatcher, smtp_server: SmtpServer) -> None:
    sessions, cfg, ref = case
    with sessions() as s:
        person, [letter, reminder] = rows_of(s, "carer")
        person_ref, letter_id, reminder_id = person.ref, letter.id, reminder.id
        letter.state = "queued"  # in Redis already: the queued copy must go to the new address
        s.commit()
    with sessions() as s:
        [done] = correct_contact(s, ref, person_ref, {"email": "carer.new@council.example.gov.uk"},
                                 allowed_domains=cfg.allowed_domains, now=NOW, actor=BSO)
        s.commit()
    assert sorted(done.moved) == [letter_id, reminder_id] and done.went_before == []
    assert send.process(letter_id).kind == "sent"  # today the worker would refuse it
    [msg] = smtp_server.wait_for(1)
    assert msg["To"] == "carer.new@council.example.gov.uk"
    with sessions() as s:
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "participant.contact_changed")).one()
        assert event.actor == BSO and event.details["fields"] == ["email"]
        # corrected again: the letter that went to the previous address is named
        [again] = correct_contact(s, ref, person_ref,
                                  {"email": "carer.third@council.example.gov.uk"},
                                  allowed_domains=cfg.allowed_domains, now=NOW, actor=BSO)
        s.commit()
        assert again.went_before == [letter_id] and again.moved == [reminder_id]
        assert s.get(Dispatch, letter_id).sent_to == "carer.new@council.example.gov.uk"  # type: ignore[union-attr]


def test_a_correction_that_fails_preflight_changes_nothing(case: Case) -> None:
    sessions, cfg, ref = case
    with sessions() as s:
        person, _ = rows_of(s, "social_worker")
        person_ref, before = person.ref, person.email
    with sessions() as s, pytest.raises(PreflightError) as refused:
        correct_contact(s, ref, person_ref, {"email": "someone@gmail.example"},
                        allowed_domains=cfg.allowed_domains, now=NOW, actor=BSO)
    assert "allow-list" in str(refused.value) and "gmail" not in str(refused.value)
    with sessions() as s:
        person, rows = rows_of(s, "social_worker")
        assert person.email == before
        assert {d.recipient for d in rows} == {before}


def test_a_switch_to_post_cancels_the_email_and_plans_a_letter(
        case: Case, send: Dispatcher, smtp_server: SmtpServer, tmp_path: Path) -> None:
    sessions, _, ref = case
    with sessions() as s:
        person, [letter, reminder] = rows_of(s, "carer")
        person_ref, letter_id, code = person.ref, letter.id, letter.reference_code
        letter.state = "queued"
        s.commit()
    env = {"IRO_CONFIG_DIR": str(CONFIG), "IRO_DATABASE_URL": sqlite_url(tmp_path)}
    done = run_iro(tmp_path, "participants", "correct", ref, person_ref, "--channel", "post",
                   "--address", "1 High Street|Bromley", "--postcode", "br1 1aa",
                   "--actor", BSO, **env)
    assert done.returncode == 0, done.stderr
    assert f"{person_ref} contact changed: 2 letters re-planned; 2 of them on the new channel" \
        in done.stdout
    assert send.process(letter_id).kind == "skipped"  # the queued email copy sends nothing
    assert smtp_server.messages == []
    with sessions() as s:
        person, rows = rows_of(s, "carer")
        assert (person.channel, person.postcode) == ("post", "BR1 1AA")
        assert [(d.kind, d.channel, d.state) for d in rows] == [
            (INVITATION_KIND, "email", "cancelled"), (REMINDER_KIND, "email", "cancelled"),
            (INVITATION_KIND, "post", "pending"), (REMINDER_KIND, "post", "pending")]
        assert rows[2].params["form_code"] == code and rows[2].recipient == "post"
        assert rows[3].params["letter_key"] == rows[0].key  # the reminder chases the same form


def test_withdrawn_by_hand_nothing_more_goes(case: Case, tmp_path: Path) -> None:
    sessions, cfg, ref = case
    with sessions() as s:
        person, rows = rows_of(s, "parent")
        person_ref = person.ref
        [done] = withdraw_participant(s, ref, person_ref, reason="parental responsibility ended",
                                      today=TODAY, now=NOW, actor=BSO)
        s.commit()
    assert str(done) == f"{person_ref} removed: 2 letters cancelled"
    with sessions() as s:
        person, rows = rows_of(s, "parent")
        assert person.withdrawn_on == TODAY and {d.state for d in rows} == {"cancelled"}
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "participant.withdrawn")).one()
        assert event.actor == BSO and sorted(event.details["cancelled"]) == [d.id for d in rows]
    again = run_mailout(sessions, cfg, ref)
    assert person_ref not in {letter.participant_ref for letter in again.plan.letters}


def test_the_next_import_withdraws_who_it_leaves_out_and_says_so(
        tmp_path: Path, context: ImportContext) -> None:  # noqa: F811
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path)
    rows = example_rows()

    def import_rows(data: bytes) -> list[str]:
        plan = parse_reviews_csv(data, "reviews.csv", context)
        with sessions.begin() as s:
            summary = upsert_plan(s, plan, actor=BSO)
            return after_import(s, summary, cfg, today=TODAY,
                                now=NOW, actor=BSO)

    assert import_rows(to_csv(rows)) == []
    run_mailout(sessions, cfg, "R-1001-5")
    # the next export: the mother dropped from R-1001-5, the carers' address corrected
    kept = [r for r in rows if not (r["review_ref"] == "R-1001-5" and r["participant_ref"]
                                    == "P-5002")]
    for r in kept:
        if r["review_ref"] == "R-1001-5" and r["participant_ref"] == "P-5003":
            r["address"], r["postcode"] = "2 New Road | Bromley", "BR2 9AA"
    lines = import_rows(to_csv(kept))
    assert "review R-1001-5: P-5002 removed: 2 letters cancelled" in lines
    assert any(line.startswith("review R-1001-5: P-5003 contact changed") for line in lines)
    with sessions() as s:
        mother = s.scalars(select(Participant).join(Review).where(
            Review.ref == "R-1001-5", Participant.ref == "P-5002")).one()
        assert mother.withdrawn_on == TODAY
        states = set(s.scalars(select(Dispatch.state).where(
            Dispatch.participant_id == mother.id)))
        assert states == {"cancelled"}
    assert import_rows(to_csv(kept)) == []  # importing it again changes nothing more
