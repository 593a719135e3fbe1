"""Returns through the team mailbox over IMAP: imaplib against a small IMAP4rev1 server.

The scenarios of tests/test_returns.py (EWS): codes in the subject, the body, a quoted reply, in
lower case or spaced; an NDR (multipart/report, delivery-status) marks its dispatch bounced and is
never a return; a message without a code is left in the inbox, unread, and listed; attachments
kept; a second poll sees nothing; matched messages moved with MOVE, or COPY/STORE/EXPUNGE.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest
from fakes.imap_server import FakeImapServer, imap_server  # noqa: F401 - the fixture
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_returns import queued  # noqa: F401 - the shared fixture

from workers.errors import AuthenticationError
from workers.mailout.plan import REMINDER_KIND
from workers.returns.imap_inbox import ImapConfig, ImapInbox
from workers.returns.poll import poll
from workers.store.models import AuditEvent, Dispatch, Return, ServiceState

Queued = tuple[sessionmaker[Session], list[str], int]
OUR_ID = "<iro." + "a" * 32 + "@council.example.gov.uk>"

NOW = dt.datetime(2027, 6, 15, 9, 0, tzinfo=dt.UTC)  # when the poll runs


def _reader(server: FakeImapServer, password: str | None = None) -> ImapInbox:
    return ImapInbox(ImapConfig(host="127.0.0.1", port=server.port, username=server.username,
                                password=password or server.password, security="none",
                                timeout_seconds=10))


def mail(subject: str, body: str = "", message_id: str = "", sender: str = "a@example.net",
         html: bool = False) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Someone <{sender}>", "iro.service@council.example.gov.uk"
    msg["Subject"], msg["Message-ID"] = subject, message_id
    msg["Date"] = "Mon, 04 Jan 2027 09:30:00 +0000"
    msg.set_content(body)
    if html:
        msg.add_alternative(f"<p>{body}</p>", subtype="html")
    return msg


def bounce(original_id: str) -> bytes:
    """A delivery status notification as Postfix sends one (RFC 3464)."""
    return (
        "From: MAILER-DAEMON@mx.council.example.gov.uk (Mail Delivery System)\r\n"
        "Subject: Delivery notice\r\nMessage-ID: <ndr@mx.example>\r\n"
        "Date: Mon, 04 Jan 2027 09:31:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\n"
        "Your message could not be delivered to one or more recipients.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.council.example.gov.uk\r\n\r\n"
        "Final-Recipient: rfc822; gone@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_id}\r\nSubject: LAC review\r\n"
        "--b1--\r\n"
    ).encode()


@pytest.mark.parametrize("move", [True, False], ids=["MOVE", "COPY-STORE-EXPUNGE"])
def test_replies_matched_wherever_the_code_is(imap_server: FakeImapServer,  # noqa: F811
                                              tmp_path: Path, queued: Queued,  # noqa: F811
                                              move: bool) -> None:
    imap_server.move = move
    sessions, codes, no_form_id = queued
    c0, c1, c2, c3 = codes
    pdf = b"%PDF-1.4 scanned form"
    first = mail(f"RE: LAC review 12/01/2027 - ref R-1 (Z.O.) - form {c0}", "Form attached.",
                 "<r0@example.net>")
    first.add_attachment(pdf, maintype="application", subtype="pdf", filename="../my form.pdf")
    imap_server.deliver(first.as_bytes())
    imap_server.deliver(mail("my views", f"Hello, my code is {c1.lower()} thanks",
                             "<r1@example.net>", html=True).as_bytes())
    imap_server.deliver(mail("Re: your letter", f"Here it is.\n\n> From: IRO service\n> Please "
                             f"keep the reference c - {c2[2:6]} {c2[6:]} in the subject line.",
                             "<r2@example.net>").as_bytes())
    imap_server.deliver(mail(f"Re:   form   C-{c3[2:6]}-{c3[6:]} ", "",
                             "<r3@example.net>").as_bytes())
    imap_server.deliver(mail("question about the meeting", "What time is it?", "<q@example.net>",
                             sender="carer@Example.org").as_bytes())
    imap_server.deliver(bounce(OUR_ID))

    summary = poll(sessions, _reader(imap_server), tmp_path / "documents", now=NOW)

    assert (summary.returns, summary.bounces, summary.unmatched) == (4, 1, ["<q@example.net>"])
    with sessions() as s:
        returns = s.scalars(select(Return).order_by(Return.id)).all()
        letters = [s.get(Dispatch, r.dispatch_id) for r in returns]
        assert sorted(d.reference_code or "" for d in letters if d) == sorted(codes)
        kept = Path(next(r.file_path for r in returns
                         if r.source_message_id == "<r0@example.net>") or "")
        assert kept.read_bytes() == pdf and kept.is_relative_to(tmp_path / "documents")
        assert ".." not in kept.name
        bounced = s.get(Dispatch, no_form_id)
        assert bounced is not None and bounced.state == "bounced"
        assert s.scalar(select(Return.id).where(Return.dispatch_id == no_form_id)) is None
        reminders = s.scalars(select(Dispatch).where(Dispatch.kind == REMINDER_KIND)).all()
        assert reminders and {d.state for d in reminders} == {"cancelled"}
        events = s.scalars(select(AuditEvent)).all()
        actions = [e.action for e in events]
        assert actions.count("return.recorded") == 4 and "dispatch.bounced" in actions
        (left,) = [e for e in events if e.action == "inbox.unmatched"]
        assert left.details["sender_domain"] == "example.org"
        assert left.details["sent_at"].startswith("2027-01-04T09:30")
        state = s.get(ServiceState, "returns.imap.watermark")
        assert state is not None
        assert state.value == f"{imap_server.folder('INBOX').uidvalidity}:6"
    inbox = imap_server.folder("INBOX").messages
    assert len(inbox) == 1 and b"<q@example.net>" in inbox[0].raw
    assert "\\Seen" not in inbox[0].flags  # still unread for the person who will deal with it
    assert len(imap_server.folder("Processed").messages) == 5
    used = set(imap_server.commands)
    assert ("UID MOVE" in used) is move and ("UID EXPUNGE" in used) is not move
    # the watermark holds: a second poll sees nothing again
    assert poll(sessions, _reader(imap_server), tmp_path / "documents", now=NOW).total == 0
    imap_server.deliver(mail("late", "no code", "<late@example.net>").as_bytes())
    assert poll(sessions, _reader(imap_server), tmp_path / "documents", now=NOW).unmatched == [
        "<late@example.net>"]


def test_a_new_uidvalidity_reads_again_and_counts_nothing_twice(
        imap_server: FakeImapServer, tmp_path: Path, queued: Queued) -> None:  # noqa: F811
    sessions, codes, _ = queued
    imap_server.deliver(mail(f"form {codes[0]}", "", "<a@example.net>").as_bytes())
    imap_server.deliver(mail("hello", "", "<h@example.net>").as_bytes())
    assert poll(sessions, _reader(imap_server), tmp_path / "documents", now=NOW).returns == 1
    imap_server.reset_uidvalidity()
    summary = poll(sessions, _reader(imap_server), tmp_path / "documents", now=NOW)
    assert (summary.returns, summary.unmatched) == (0, ["<h@example.net>"])
    with sessions() as s:
        assert len(s.scalars(select(Return)).all()) == 1


def test_refused_login_names_the_setting(
        imap_server: FakeImapServer, tmp_path: Path, queued: Queued) -> None:  # noqa: F811
    sessions, _, _ = queued
    with pytest.raises(AuthenticationError, match="IRO_IMAP_PASSWORD") as caught:
        poll(sessions, _reader(imap_server, password="wrong"), tmp_path / "documents", now=NOW)
    assert "wrong" not in str(caught.value)


def test_wiring_builds_the_imap_reader_for_smtp_when_imap_host_is_set(
        imap_server: FakeImapServer, tmp_path: Path, queued: Queued) -> None:  # noqa: F811
    from pydantic import SecretStr

    from workers.config.settings import ImapSettings, Settings
    from workers.mailout.wiring import inbox_reader

    assert inbox_reader(Settings(transport="smtp")) is None
    imap = ImapSettings(host="127.0.0.1", port=imap_server.port, security="none",
                        username=imap_server.username, password=SecretStr(imap_server.password))
    reader = inbox_reader(Settings(transport="smtp", imap=imap))
    assert isinstance(reader, ImapInbox)
    sessions, codes, _ = queued
    imap_server.deliver(mail(f"form {codes[0]}", "", "<w@example.net>").as_bytes())
    try:
        assert poll(sessions, reader, tmp_path / "documents", now=NOW).returns == 1
    finally:
        reader.close()


def test_iro_returns_unmatched_lists_domain_and_dates_without_names(
        imap_server: FakeImapServer, tmp_path: Path, queued: Queued) -> None:  # noqa: F811
    from test_mailout_round import iro

    sessions, _, _ = queued
    imap_server.deliver(mail("About Zoë O'Neil", "no code here", "<z@example.net>",
                             sender="jo.bloggs@Carers.example.org").as_bytes())
    assert poll(sessions, _reader(imap_server), tmp_path / "documents", now=NOW).unmatched
    out = iro(tmp_path / "store", "returns", "unmatched")  # the queued store's database file
    assert out.returncode == 0, out.stderr
    assert "carers.example.org" in out.stdout and "<z@example.net>" in out.stdout
    assert "2027-01-04 09:30" in out.stdout and "no form code in it" in out.stdout
    assert "Zoë" not in out.stdout and "bloggs" not in out.stdout, out.stdout


def test_a_delay_notice_is_not_a_bounce() -> None:
    from workers.returns.imap_inbox import parse

    failed = parse(bounce(OUR_ID), "7", None)
    delayed = parse(bounce(OUR_ID).replace(b"Action: failed", b"Action: delayed"), "8", None)
    assert failed.is_report and not delayed.is_report
    assert OUR_ID in failed.body and failed.sender_domain == "mx.council.example.gov.uk"


def test_a_read_receipt_quoting_the_code_is_neither_bounce_nor_return() -> None:
    from workers.returns.imap_inbox import parse
    from workers.returns.matching import classify

    mdn = (
        b"From: carer@example.org\r\nTo: iro.service@council.example.gov.uk\r\n"
        b"Subject: Read: LAC review - form C-ABCDEFGH\r\nMessage-ID: <mdn@example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        b"--b\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n"
    )
    receipt = parse(mdn, "9", None)
    assert receipt.is_receipt and not receipt.is_report
    assert classify(receipt, lambda codes: set(codes)).outcome == "receipt"
    delayed = parse(bounce(OUR_ID).replace(b"Action: failed", b"Action: delayed"), "8", None)
    assert delayed.is_receipt
