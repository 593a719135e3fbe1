"""`iro returns` and `iro print` for a person's steps (issue 16 §1, §3), run as the command a
business support officer types: a posted return shown for checking against the paper and
recorded only with --confirm; undo; a sender confirmed; unmatched messages dealt with; a print
batch voided; `iro run --once` polling the inbox as the scheduler does."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

from factories import make_case, sqlite_store, sqlite_url
from fakes.imap_server import FakeImapServer, imap_server  # noqa: F401 - the fixture
from fakes.smtp import SmtpServer
from mailout_support import CONFIG, ROOT, make_config
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_config_cli import run_iro

from workers.mailout.plan import INVITATION_KIND
from workers.mailout.service import run_mailout
from workers.returns import service, unmatched
from workers.returns.inbox import InboxMessage
from workers.store.models import AuditEvent, Dispatch, Participant, PrintBatch, Return

SENT = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
BSO = "bso@council.example.gov.uk"


def iro(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    done = run_iro(tmp_path, *args, IRO_CONFIG_DIR=str(CONFIG),
                   IRO_DATABASE_URL=sqlite_url(tmp_path),
                   IRO_TEMPLATES_DIR=str(ROOT / "templates_docx"),
                   IRO_DOCUMENTS_DIR=str(tmp_path / "documents"),
                   IRO_PRINT_DIR=str(tmp_path / "print"), IRO_OUTBOX_DIR=str(tmp_path / "outbox"),
                   **env)
    return done.returncode, " ".join(done.stdout.split()), " ".join(done.stderr.split())


def _store(tmp_path: Path) -> tuple[sessionmaker[Session], str, str, str, str]:
    """A review whose invitations went; the parent's form code, review, participant, role."""
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        ref = make_case(s).ref
        s.commit()
    run_mailout(sessions, make_config(tmp_path), ref)
    with sessions() as s:
        for d in s.scalars(select(Dispatch).where(Dispatch.kind == INVITATION_KIND)):
            d.state, d.sent_at = "sent", SENT
        s.commit()
        letter, person = s.execute(select(Dispatch, Participant).join(
            Participant, Participant.id == Dispatch.participant_id).where(
            Dispatch.kind == INVITATION_KIND, Participant.role == "parent")).one()
        return sessions, letter.reference_code or "", ref, person.ref, person.role


def test_a_posted_return_is_checked_recorded_and_undone(tmp_path: Path) -> None:
    sessions, code, review_ref, person_ref, role = _store(tmp_path)
    record = ("returns", "record", code.lower(), "--received", "2026-11-10")

    code_, out, err = iro(tmp_path, *record)  # no terminal to ask at, no --confirm
    assert code_ == 2 and "--confirm" in err
    assert f"review {review_ref}" in out and f"participant {person_ref}" in out
    assert f"role {role}" in out and "received on 2026-11-10" in out
    with sessions() as s:
        assert s.scalars(select(Return)).all() == []

    early = iro(tmp_path, "returns", "record", code, "--received", "2026-11-01", "--confirm")
    assert early[0] == 2 and "sent on 2026-11-02" in early[2]

    # the scan is checked as the web page checks it, and kept under a name of our own: the
    # name it was saved under may carry the child's
    named = tmp_path / "Zoe ONeil form.txt"
    named.write_text("not a scan")
    wrong = iro(tmp_path, *record, "--file", str(named), "--confirm")
    assert wrong[0] == 2 and "not a PDF, JPEG or PNG" in wrong[2]
    scan = tmp_path / "Zoe ONeil form.pdf"
    scan.write_bytes(b"%PDF-1.4 a scanned form")
    code_, out, err = iro(tmp_path, *record, "--file", str(scan), "--confirm", "--actor", BSO)
    assert code_ == 0, err
    assert f"form {code} recorded as returned on 2026-11-10" in out and "iro returns undo" in out
    with sessions() as s:
        kept = Path(s.scalars(select(Return)).one().file_path or "")
    assert kept.name == f"{code}-scan.pdf" and kept.read_bytes() == scan.read_bytes()
    twice = iro(tmp_path, *record, "--confirm")
    assert twice[0] == 2 and "already recorded" in twice[2]

    assert iro(tmp_path, "returns", "undo", code, "--confirm")[0] == 2  # no reason given
    code_, out, err = iro(tmp_path, "returns", "undo", code, "--reason", "wrong code keyed",
                          "--confirm", "--actor", "lead@council.example.gov.uk")
    assert code_ == 0, err
    assert f"the return of form {code} was undone" in out and "1 reminders planned again" in out
    with sessions() as s:
        assert s.scalars(select(Return)).all() == []
        actors = {e.action: e.actor for e in s.scalars(select(AuditEvent))}
        assert actors["return.recorded"] == BSO
        assert actors["return.undone"] == "lead@council.example.gov.uk"


def test_senders_confirmed_and_unmatched_messages_dealt_with(tmp_path: Path) -> None:
    sessions, code, _, person_ref, _ = _store(tmp_path)
    with sessions() as s:
        letter = service.dispatch_by_code(s, code)
        service.record_return(s, letter, received_on=dt.date(2026, 11, 10), channel="email",
                              sender="neighbour@example.org", source_message_id="<n@x>")
        for n in range(2):
            unmatched.add(s, InboxMessage(id=str(n), message_id=f"<u{n}@example.org>",
                                          subject="", body="", received_at=SENT,
                                          sender_domain="example.org"), "several_codes")
        s.commit()
        first_id = min(r.id for r in unmatched.listed(s)[0])
    code_, out, _ = iro(tmp_path, "returns", "to-confirm")
    assert code_ == 0 and code in out and "neighbour@example.org" in out
    code_, out, err = iro(tmp_path, "returns", "confirm", code, "--actor", BSO)
    assert code_ == 0, err
    assert f"confirmed as {person_ref}'s" in out
    assert "no returns wait" in iro(tmp_path, "returns", "to-confirm")[1]

    code_, out, _ = iro(tmp_path, "returns", "unmatched")
    assert code_ == 0 and "2 in all" in out and "the attachments cannot be told apart" in out
    assert iro(tmp_path, "returns", "dealt-with", str(first_id), "--note", "filed by hand",
               "--actor", BSO)[0] == 0
    assert "1 in all" in iro(tmp_path, "returns", "unmatched")[1]
    assert "2 in all" in iro(tmp_path, "returns", "unmatched", "--all")[1]
    again = iro(tmp_path, "returns", "dealt-with", str(first_id))
    assert again[0] == 2 and "already dealt with" in again[2]
    with sessions() as s:
        assert [e.actor for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(("return.sender_confirmed", "inbox.dealt_with"))))] == [BSO] * 2


def test_iro_print_void(tmp_path: Path) -> None:
    sessions, _, _, _, _ = _store(tmp_path)
    pdf = tmp_path / "print.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with sessions() as s:
        batch = PrintBatch(batch_date=SENT.date(), pdf_path=str(pdf), manifest_path="",
                           printed_at=SENT)
        s.add(batch)
        s.flush()
        letter = s.scalars(select(Dispatch).where(Dispatch.channel == "post",
                                                  Dispatch.kind == INVITATION_KIND)).first()
        assert letter is not None
        letter.print_batch_id, letter_id, batch_id = batch.id, letter.id, batch.id
        s.commit()
    posted = iro(tmp_path, "print", "void", str(batch_id), "--reason", "jammed")
    assert posted[0] == 2 and "--never-posted" in posted[2]
    code_, out, err = iro(tmp_path, "print-batch", "void", str(batch_id), "--reason",
                          "never left the office", "--never-posted", "--actor", BSO)
    assert code_ == 0, err
    assert "voided (recorded as never posted): 1 letters wait for the next batch" in out
    assert not pdf.exists()
    with sessions() as s:
        row = s.get(Dispatch, letter_id)
        assert row is not None and (row.state, row.sent_at, row.print_batch_id) == (
            "pending", None, None)


def test_run_once_polls_the_inbox(tmp_path: Path, imap_server: FakeImapServer,  # noqa: F811
                                  smtp_server: SmtpServer) -> None:
    sessions, code, _, _, _ = _store(tmp_path)
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "p@example.org", f"form {code}", "<o@x>"
    msg.set_content("my form")
    imap_server.deliver(msg.as_bytes())
    code_, _, err = iro(tmp_path, "run", "--once", IRO_TRANSPORT="smtp",
                        IRO_SMTP_HOST=smtp_server.host, IRO_SMTP_PORT=str(smtp_server.port),
                        IRO_SMTP_TIMEOUT_SECONDS="5", IRO_IMAP_HOST="127.0.0.1",
                        IRO_IMAP_PORT=str(imap_server.port), IRO_IMAP_SECURITY="none",
                        IRO_IMAP_USERNAME=imap_server.username,
                        IRO_IMAP_PASSWORD=imap_server.password)
    assert code_ == 0, err
    with sessions() as s:
        [row] = s.scalars(select(Return)).all()
        assert row.source_message_id == "<o@x>" and row.needs_confirmation
    assert imap_server.folder("INBOX").messages == []  # filed, as the scheduler's poll does

