"""Issue 16, casework on one letter: every letter records the address it went to; a person cancels
one (its reminders with it) or resends a bounced one to the corrected address or by post, each an
audit event naming that person. Real SQLite store, shipped rules and templates, real SMTP server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from casework_support import BSO, NOW, Case
from factories import sqlite_url
from fakes.smtp import SmtpServer
from mailout_support import CONFIG
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_config_cli import run_iro

from workers.casework import notices as casework_notices
from workers.casework.letters import cancel, resend
from workers.core.clock import FixedClock, london_moment
from workers.errors import PreflightError, RefusedError
from workers.mail.pause import PauseHooks
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.mailout import compose as mailout_compose
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher
from workers.returns.service import record_bounce
from workers.store.models import AuditEvent, Dispatch, Participant

MAILBOX = "iro.service@council.example.gov.uk"


def letter_of(session: Session, role: str) -> tuple[Dispatch, Participant]:
    person = session.scalars(select(Participant).where(Participant.role == role)).one()
    d = session.scalars(select(Dispatch).where(Dispatch.participant_id == person.id,
                                               Dispatch.kind == INVITATION_KIND)).one()
    return d, person


def test_a_bounced_email_goes_again_to_the_corrected_address(
        case: Case, send: Dispatcher,
        smtp_server: SmtpServer) -> None:
    sessions, cfg, _ = case
    with sessions() as s:
        d, person = letter_of(s, "carer")
        letter_id, old_address = d.id, person.email
    assert send.process(letter_id).kind == "sent"
    with sessions() as s:
        d, person = letter_of(s, "carer")
        assert d.sent_to == old_address  # the letter records where it went
        record_bounce(s, d, source_message_id="<ndr-1@example>")
        person.email = "carer.new@council.example.gov.uk"  # the case record corrected
        s.commit()
        assert {r.state for r in s.scalars(select(Dispatch).where(
            Dispatch.participant_id == person.id, Dispatch.kind == REMINDER_KIND))} == {
            "cancelled"}
    with sessions() as s:
        new = resend(s, letter_id, channel=None, allowed_domains=cfg.allowed_domains, now=NOW,
                     actor=BSO)
        s.commit()
        new_id = new.id
    assert send.process(new_id).kind == "sent"
    [first, again] = smtp_server.wait_for(2)
    assert first["To"] == old_address and again["To"] == "carer.new@council.example.gov.uk"
    with sessions() as s:
        old, new = s.get(Dispatch, letter_id), s.get(Dispatch, new_id)
        assert old is not None and new is not None
        assert (old.state, old.sent_to) == ("cancelled", old_address)  # the trace is kept
        assert (new.state, new.sent_to) == ("sent", "carer.new@council.example.gov.uk")
        assert new.params["form_code"] == old.reference_code  # a return still files by code
        # the reminder the bounce called off chases the form at the new address
        reminders = s.scalars(select(Dispatch).where(Dispatch.participant_id == new.participant_id,
                                                     Dispatch.kind == REMINDER_KIND)).all()
        assert [(r.state, r.recipient) for r in reminders] == [
            ("pending", "carer.new@council.example.gov.uk")]
        resent = s.scalars(select(AuditEvent).where(AuditEvent.action == "dispatch.resent")).one()
        assert resent.actor == BSO and resent.details["resent_from"] == letter_id
        assert resent.details["went_before"] is True
        # a second resend of the same letter is refused: it is no longer failed or bounced
        with pytest.raises(RefusedError):
            resend(s, letter_id, channel=None, allowed_domains=cfg.allowed_domains, now=NOW,
                   actor=BSO)


def test_resend_by_post_needs_a_postal_address_and_goes_to_the_print_batch(
        case: Case) -> None:
    sessions, cfg, _ = case
    with sessions() as s:
        d, person = letter_of(s, "social_worker")
        d.state, letter_id = "failed", d.id
        s.commit()
    with sessions() as s, pytest.raises(PreflightError) as refused:
        resend(s, letter_id, channel="post", allowed_domains=cfg.allowed_domains, now=NOW,
               actor=BSO)
    assert "social_worker" in str(refused.value) and "postcode" in str(refused.value)
    with sessions() as s:
        assert s.get(Dispatch, letter_id).state == "failed"  # type: ignore[union-attr]
        d, person = letter_of(s, "social_worker")
        person.address, person.postcode = "Civic Centre\nBromley", "BR1 3UH"
        new = resend(s, letter_id, channel="post", allowed_domains=cfg.allowed_domains, now=NOW,
                     actor=BSO)
        s.commit()
        assert (new.channel, new.recipient, new.kind) == ("post", "post", INVITATION_KIND)
        reminders = s.scalars(select(Dispatch).where(Dispatch.participant_id == person.id,
                                                     Dispatch.kind == REMINDER_KIND)).all()
        assert {r.channel for r in reminders} == {"post"}


def test_cancel_takes_the_reminders_and_a_worker_then_sends_nothing(
        case: Case, send: Dispatcher,
        smtp_server: SmtpServer) -> None:
    sessions, _, _ = case
    with sessions() as s:
        d, person = letter_of(s, "parent")
        letter_id, person_id = d.id, person.id
        done = cancel(s, letter_id, reason="family asked for no letters", now=NOW, actor=BSO)
        s.commit()
    assert len(done.reminders) == 1 and done.print_batch_id is None
    with sessions() as s:
        states = {r.state for r in s.scalars(select(Dispatch).where(
            Dispatch.participant_id == person_id))}
        assert states == {"cancelled"}
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "dispatch.cancelled")
                           ).all()
        assert {e.actor for e in events} == {BSO} and len(events) == 2
    with sessions() as s:
        d, _ = letter_of(s, "carer")
        d.state = "queued"
        cancel(s, d.id, reason="duplicate", now=NOW, actor=BSO)
        s.commit()
        carer_id = d.id
    assert send.process(carer_id).kind == "skipped"  # the queued copy finds nothing to claim
    assert smtp_server.messages == []


def test_cli_cancel_and_resend_name_the_person(
        case: Case, tmp_path: Path) -> None:
    sessions, _, _ = case
    with sessions() as s:
        d, _ = letter_of(s, "carer")
        carer = d.id
        d2, _ = letter_of(s, "guardian")
        d2.state, guardian = "sent", d2.id
        d3, _ = letter_of(s, "social_worker")
        d3.state, worker = "failed", d3.id
        s.commit()
    env = {"IRO_CONFIG_DIR": str(CONFIG), "IRO_DATABASE_URL": sqlite_url(tmp_path)}
    done = run_iro(tmp_path, "dispatches", "cancel", str(carer), "--reason", "moved away",
                   "--actor", BSO, **env)
    assert done.returncode == 0, done.stderr
    assert f"dispatch {carer}: cancelled, with its 1 pending reminders" in done.stdout
    refused = run_iro(tmp_path, "dispatches", "cancel", str(guardian), "--reason", "x", **env)
    assert refused.returncode == 2 and "already gone" in refused.stderr
    assert run_iro(tmp_path, "dispatches", "cancel", str(worker), **env).returncode == 2
    again = run_iro(tmp_path, "dispatches", "resend", str(worker), **env,
                    IRO_ACTOR="bso.two@council.example.gov.uk")
    assert again.returncode == 0, again.stderr
    assert f"dispatch {worker}: resent by email as dispatch" in again.stdout
    with sessions() as s:
        cancelled_by = s.scalar(select(AuditEvent.actor).where(
            AuditEvent.action == "dispatch.cancelled", AuditEvent.subject_id == carer))
        resent_actor = s.scalar(select(AuditEvent.actor).where(
            AuditEvent.action == "dispatch.resent"))
    assert cancelled_by == BSO
    assert resent_actor == "bso.two@council.example.gov.uk"


def test_a_reminder_whose_date_passed_is_never_sent(
        case: Case, smtp_server: SmtpServer) -> None:
    # after an outage the workers come back on 8 January: the reminders of 23 December for a
    # form due back on 5 January (meeting 12 January) are called off, not sent
    sessions, cfg, _ = case
    later = FixedClock(london_moment(dt.date(2027, 1, 8), dt.time(9)))
    mailout_compose.register(lambda: cfg)
    casework_notices.register(lambda: cfg)
    transport = SmtpTransport(SmtpConfig(smtp_server.host, smtp_server.port, MAILBOX))
    dispatcher = Dispatcher(
        sessions=sessions, transport=transport,
        compose=Composers(ComposeContext(allowed_domains=cfg.allowed_domains, clock=later)),
        pause=PauseHooks(is_paused=lambda _s: False, pause=lambda _s, _r: False), clock=later)
    with sessions() as s:
        reminders = s.scalars(select(Dispatch).where(Dispatch.kind == REMINDER_KIND,
                                                     Dispatch.channel == "email")).all()
        assert reminders and all(d.params["return_by"] < "2027-01-08" for d in reminders)
        ids = [d.id for d in reminders]
    assert {dispatcher.process(i).kind for i in ids} == {"skipped"}
    transport.close()
    assert smtp_server.messages == []
    with sessions() as s:
        assert {s.get(Dispatch, i).state for i in ids} == {"cancelled"}  # type: ignore[union-attr]
        reasons = {e.details.get("reason") for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action == "dispatch.cancelled"))}
        assert reasons == {"expired"}
