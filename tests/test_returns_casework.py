"""Returns after the mail-out (issue 16 §3), through a real IMAP conversation and the store.

One email returning two children's forms files each against its own child, or goes whole to a
person when its attachments cannot be told apart; a return from an address not the participant's
is filed but flagged and the sender kept; a return dated before its form went is refused; a
recorded return can be undone (its reminders come back); unmatched messages are marked dealt
with and leave the list; a dry run's form codes are the mail-out's.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from docx import Document
from factories import make_case, sqlite_store
from fakes.imap_server import FakeImapServer, imap_server  # noqa: F401 - the fixture
from mailout_support import make_config
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from workers.mailout.codes import find_codes
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.mailout.service import run_mailout
from workers.returns import changes, service, unmatched
from workers.returns.imap_inbox import ImapConfig, ImapInbox
from workers.returns.poll import poll
from workers.store.models import AuditEvent, Dispatch, Participant, Return, Review
from workers.store.returns_models import UnmatchedMessage

SENT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)  # the forms went
NOW = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)  # the poll; reminders still ahead


@dataclass
class Form:
    code: str
    dispatch_id: int
    child_ref: str
    review_ref: str
    email: str  # the participant's address


@dataclass
class Two:
    sessions: sessionmaker[Session]
    a: Form  # the carer's form for one child
    b: Form  # the same carer's form for another child, sent to the same address
    documents: Path


def _carer_form(s: Session, review_ref: str) -> Form:
    review = s.scalars(select(Review).where(Review.ref == review_ref)).one()
    d, person = s.execute(select(Dispatch, Participant).join(
        Participant, Dispatch.participant_id == Participant.id).where(
        Dispatch.review_id == review.id, Dispatch.kind == INVITATION_KIND,
        Participant.role == "carer")).one()
    return Form(d.reference_code or "", d.id, review.child.ref, review.ref, person.email or "")


@pytest.fixture
def two(tmp_path: Path) -> Two:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        cases = [make_case(s), make_case(s)]
        refs = [r.ref for r in cases]
        carers = [p for r in cases for p in r.participants if p.role == "carer"]
        carers[1].email = carers[0].email  # one foster carer looks after both children
        s.commit()
    for ref in refs:
        run_mailout(sessions, make_config(tmp_path), ref)
    with sessions() as s:
        for d in s.scalars(select(Dispatch).where(Dispatch.kind == INVITATION_KIND)):
            d.state, d.sent_at = "sent", SENT
        s.commit()
        a, b = (_carer_form(s, ref) for ref in refs)
    return Two(sessions, a, b, tmp_path / "documents")


def _reader(server: FakeImapServer) -> ImapInbox:
    return ImapInbox(ImapConfig(host="127.0.0.1", port=server.port, username=server.username,
                                password=server.password, security="none",
                                timeout_seconds=10))


def _mail(subject: str, sender: str, message_id: str, body: str = "Forms attached.",
          attachments: tuple[tuple[str, bytes], ...] = ()) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"A Carer <{sender}>", "iro.service@council.example.gov.uk"
    msg["Subject"], msg["Message-ID"] = subject, message_id
    msg["Date"] = "Mon, 07 Dec 2026 09:30:00 +0000"
    msg.set_content(body)
    for name, data in attachments:
        kind = ("application", "pdf") if data.startswith(b"%PDF") else (
            "application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
        msg.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=name)
    return msg.as_bytes()


def _deliver(server: FakeImapServer, raw: bytes) -> None:
    server.deliver(raw, when=dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC))


def _docx(text: str) -> bytes:
    document = Document()
    document.add_paragraph("My views about the review")
    document.sections[0].footer.paragraphs[0].text = text  # the form's code, in its footer
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_one_email_files_each_childs_form_against_its_own_child(
        imap_server: FakeImapServer, two: Two) -> None:  # noqa: F811
    first = b"%PDF-1.4 first child's form"
    second = _docx(f"Reference: {two.b.code[:6]} {two.b.code[6:]}")  # as retyped
    _deliver(imap_server, _mail(f"RE: your review letter - form {two.a.code}", two.a.email,
                              "<two@example.net>",
                              attachments=((f"{two.a.code} views.pdf", first),
                                           ("second form.docx", second))))

    summary = poll(two.sessions, _reader(imap_server), two.documents, now=NOW)

    assert summary.returns == 1 and summary.unmatched == []
    with two.sessions() as s:
        rows = {r.dispatch_id: r for r in s.scalars(select(Return))}
        assert set(rows) == {two.a.dispatch_id, two.b.dispatch_id}
        assert {r.source_message_id for r in rows.values()} == {"<two@example.net>"}
        for form, data in ((two.a, first), (two.b, second)):
            kept = Path(rows[form.dispatch_id].file_path or "")
            # in its own child's folder, and nowhere else
            assert kept.parent == two.documents / form.child_ref / form.review_ref / "returns"
            assert kept.read_bytes() == data
        # the carer's own address: no one needs to confirm either
        assert not any(r.needs_confirmation for r in rows.values())
    assert len(list(two.documents.rglob("*-*"))) >= 2
    assert imap_server_inbox(imap_server) == []  # filed: moved out of the inbox


def imap_server_inbox(server: FakeImapServer) -> list[str]:
    """The Message-IDs still in the inbox (left for a person)."""
    from email import message_from_bytes

    return [str(message_from_bytes(m.raw)["Message-ID"]) for m in server.folder("INBOX").messages
            if "\\Deleted" not in m.flags]


def test_forms_that_cannot_be_told_apart_go_to_a_person_with_nothing_filed(
        imap_server: FakeImapServer, two: Two) -> None:  # noqa: F811
    _deliver(imap_server, _mail(f"forms {two.a.code} and {two.b.code}", two.a.email,
                              "<mixed@example.net>",
                              attachments=(("scan1.pdf", b"%PDF-1.4 no text"),
                                           ("scan2.pdf", b"%PDF-1.4 no text either"))))

    summary = poll(two.sessions, _reader(imap_server), two.documents, now=NOW)

    assert summary.returns == 0 and summary.unmatched == ["<mixed@example.net>"]
    with two.sessions() as s:
        assert s.scalars(select(Return)).all() == []
        left = s.scalars(select(UnmatchedMessage)).one()
        assert left.reason == "several_codes" and left.attachments == 2
        assert set(left.codes.split()) == {two.a.code, two.b.code}
        # its reminders still go: nothing was recorded
        reminders = s.scalars(select(Dispatch).where(Dispatch.kind == REMINDER_KIND)).all()
        assert reminders and "cancelled" not in {d.state for d in reminders}
    assert not two.documents.exists() or not any(p.is_file() for p in two.documents.rglob("*"))
    assert imap_server_inbox(imap_server) == ["<mixed@example.net>"]


def test_a_return_from_another_address_is_filed_flagged_and_confirmed(
        imap_server: FakeImapServer, two: Two) -> None:  # noqa: F811
    _deliver(imap_server, _mail(f"form {two.a.code}", two.a.email.upper(), "<own@example.net>"))
    _deliver(imap_server, _mail(f"form {two.b.code}", "someone.else@example.org",
                              "<other@example.net>"))

    assert poll(two.sessions, _reader(imap_server), two.documents, now=NOW).returns == 2

    with two.sessions() as s:
        rows = {r.dispatch_id: r for r in s.scalars(select(Return))}
        own, other = rows[two.a.dispatch_id], rows[two.b.dispatch_id]
        assert not own.needs_confirmation and own.sender == two.a.email.lower()
        assert other.needs_confirmation and other.sender == "someone.else@example.org"
        assert [f.code for f in changes.to_confirm(s)] == [two.b.code]
        with pytest.raises(service.RefusedError):
            changes.confirm_sender(s, two.a.code, now=NOW, actor="bso@council.example.gov.uk")
        done = changes.confirm_sender(s, two.b.code, now=NOW, actor="bso@council.example.gov.uk")
        s.commit()
        assert done.review_ref == two.b.review_ref and changes.to_confirm(s) == []
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "return.sender_confirmed")).one()
        assert event.actor == "bso@council.example.gov.uk"
        assert "someone" not in str(event.details)  # the address is on the return, not the log


def test_a_return_before_its_form_went_is_refused(
        imap_server: FakeImapServer, two: Two) -> None:  # noqa: F811
    with two.sessions() as s:
        letter = s.get(Dispatch, two.a.dispatch_id)
        assert letter is not None
        with pytest.raises(service.ReturnRefused, match="sent on 2026-12-01") as early:
            service.record_return(s, letter, received_on=dt.date(2026, 11, 30), channel="post")
        assert early.value.reason == "before_sent"
        letter.state, letter.sent_at = "pending", None  # not gone yet
        s.commit()
        with pytest.raises(service.ReturnRefused, match="not been sent") as unsent:
            service.record_return(s, letter, received_on=dt.date(2026, 12, 2), channel="post")
        assert unsent.value.reason == "not_sent"
    _deliver(imap_server, _mail(f"form {two.a.code}", two.a.email, "<early@example.net>",
                              attachments=(("form.pdf", b"%PDF-1.4 x"),)))
    assert poll(two.sessions, _reader(imap_server), two.documents, now=NOW).unmatched
    with two.sessions() as s:
        assert s.scalars(select(UnmatchedMessage.reason)).all() == ["not_sent"]
        assert s.scalars(select(Return)).all() == []
    assert not any(p.is_file() for p in two.documents.rglob("*"))  # its file not kept


def test_undo_brings_back_the_reminders_and_is_audited(two: Two) -> None:
    with two.sessions() as s:
        letter = s.get(Dispatch, two.a.dispatch_id)
        assert letter is not None
        done = service.record_return(s, letter, received_on=dt.date(2026, 12, 2),
                                     channel="post", actor="bso@council.example.gov.uk")
        s.commit()
        assert done.reminders_called_off == 1
        with pytest.raises(service.BadInputError, match="--reason"):
            changes.undo(s, two.a.code, reason=" ", now=NOW, actor="x@council.example.gov.uk")
        undone = changes.undo(s, two.a.code, reason="wrong code keyed", now=NOW,
                              actor="lead@council.example.gov.uk")
        s.commit()
        assert undone.reminders == 1 and undone.facts.participant_ref
        assert s.scalars(select(Return)).all() == []
        reminder = s.scalars(select(Dispatch).where(
            Dispatch.kind == REMINDER_KIND,
            Dispatch.key.startswith(service.reminder_prefix(letter.key)))).one()
        assert reminder.state == "pending"
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "return.undone")).one()
        assert event.actor == "lead@council.example.gov.uk"
        assert event.details["reason"] == "wrong code keyed"
        assert event.details["received_on"] == "2026-12-02"
        # and it can be recorded again, correctly this time
        service.record_return(s, letter, received_on=dt.date(2026, 12, 3), channel="post")
        s.commit()


def test_unmatched_messages_are_dealt_with_and_leave_the_list(
        imap_server: FakeImapServer, two: Two) -> None:  # noqa: F811
    for n in range(3):
        _deliver(imap_server, _mail("a question", "parent@example.org", f"<q{n}@example.net>",
                                  body="What time is the meeting?"))
    poll(two.sessions, _reader(imap_server), two.documents, now=NOW)
    with two.sessions() as s:
        rows, total = unmatched.listed(s, limit=2)
        assert total == 3 and len(rows) == 2
        unmatched.dealt_with(s, rows[0].id, now=NOW, actor="bso@council.example.gov.uk",
                             note="answered by phone")
        s.commit()
        with pytest.raises(service.RefusedError, match="already dealt with"):
            unmatched.dealt_with(s, rows[0].id, now=NOW, actor="bso@council.example.gov.uk")
        assert unmatched.listed(s)[1] == 2
        assert unmatched.listed(s, unmatched.Wanted(show="all"))[1] == 3
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "inbox.dealt_with")).one()
        assert event.actor == "bso@council.example.gov.uk"
    # a second poll does not list them again
    poll(two.sessions, _reader(imap_server), two.documents, now=NOW)
    with two.sessions() as s:
        assert unmatched.listed(s, unmatched.Wanted(show="all"))[1] == 3


def test_a_dry_runs_codes_are_the_mail_outs(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        ref = make_case(s).ref
        s.commit()
    cfg = make_config(tmp_path)
    first = run_mailout(sessions, cfg, ref, dry_run_dir=tmp_path / "preview")
    again = run_mailout(sessions, cfg, ref, dry_run_dir=tmp_path / "preview2")
    printed = {k: c for k, c in first.codes.items() if c}
    assert printed and {k: c for k, c in again.codes.items() if c} == printed
    # the preview carries the code the mail-out will use
    preview = next(p for p in (tmp_path / "preview").rglob("*.docx") if "-2-" in p.name)
    text = "\n".join(p.text for p in Document(str(preview)).paragraphs)
    text += "".join(p.text for sec in Document(str(preview)).sections
                    for p in sec.footer.paragraphs)
    # read as the returns matcher reads it (the code's hyphens print non-breaking)
    assert set(find_codes(text)) & set(printed.values())
    real = run_mailout(sessions, cfg, ref)
    assert real.created and {k: c for k, c in real.codes.items() if c} == printed
    with sessions() as s:
        stored = dict(s.execute(select(Dispatch.key, Dispatch.reference_code)
                                .where(Dispatch.reference_code.is_not(None))).all())
        assert stored == printed
