"""Returns through the team mailbox: exchangelib's SyncFolderItems against the local EWS endpoint.

Replies carry the form code in the subject, in the body, in a quoted reply, in lowercase or with
extra spaces; an NDR marks its dispatch bounced and is never a return; a message without a code
is left in the inbox and listed; a returned form calls off its reminders.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import make_case, sqlite_store
from fakes.ews_mailbox import FakeAttachment, new_id
from fakes.ews_server import FakeEwsServer
from mailout_support import make_config
from sqlalchemy import select

from workers.errors import NotFoundError, RefusedError
from workers.mail.ews import EwsConfig
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.mailout.service import run_mailout
from workers.returns import service
from workers.returns.ews_inbox import EwsInbox
from workers.returns.poll import poll
from workers.store.models import AuditEvent, Dispatch, Return

MAILBOX = "iro.service@council.example.gov.uk"

NOW = dt.datetime(2027, 6, 15, 9, 0, tzinfo=dt.UTC)  # when the poll runs
SENT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)  # when the forms went


def _reader(server: FakeEwsServer) -> EwsInbox:
    return EwsInbox(EwsConfig(endpoint=server.url, mailbox=MAILBOX, auth="basic",
                              username=server.username, password=server.password,
                              timeout_seconds=10))


@pytest.fixture
def queued(tmp_path: Path):  # type: ignore[no-untyped-def]
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        ref = make_case(s).ref
        s.commit()
    run_mailout(sessions, make_config(tmp_path), ref)
    with sessions() as s:
        letters = s.scalars(select(Dispatch).where(Dispatch.kind == INVITATION_KIND,
                                                   Dispatch.reference_code.is_not(None))
                            .order_by(Dispatch.id)).all()
        codes = [d.reference_code for d in letters]
        for d in letters:  # the forms went (a return before that is refused)
            d.state, d.sent_at = "sent", SENT
        no_form = s.scalars(select(Dispatch).where(Dispatch.kind == INVITATION_KIND,
                                                   Dispatch.reference_code.is_(None))).first()
        assert no_form is not None
        no_form.state, no_form.message_id = "sent", "<iro." + "a" * 32 + "@council.example.gov.uk>"
        s.commit()
    return sessions, codes, no_form.id


def test_replies_matched_wherever_the_code_is(ews_server: FakeEwsServer, tmp_path: Path,
                                              queued) -> None:  # type: ignore[no-untyped-def]
    sessions, codes, no_form_id = queued
    c0, c1, c2, c3 = codes
    pdf = b"%PDF-1.4 scanned form"
    ews_server.deliver(subject=f"RE: LAC review 12/01/2027 - ref R-1 (Z.O.) - form {c0}",
                       body="Form attached.", message_id="<r0@example.net>",
                       attachments=[FakeAttachment(new_id(), "../my form.pdf",
                                                   "application/pdf", pdf)])
    ews_server.deliver(subject="my views", body=f"Hello, my code is {c1.lower()} thanks",
                       message_id="<r1@example.net>")
    ews_server.deliver(subject="Re: your letter", message_id="<r2@example.net>",
                       body=f"Here it is.\n\n> From: IRO service\n> Please keep the reference "
                            f"c - {c2[2:6]} {c2[6:]} in the subject line.")
    ews_server.deliver(subject=f"Re:   form   C-{c3[2:6]}-{c3[6:]} ", body="",
                       message_id="<r3@example.net>")
    ews_server.deliver(subject="question about the meeting", body="What time is it?",
                       message_id="<q@example.net>", author="carer@Example.org")
    ews_server.deliver(subject="Undeliverable: LAC review 12/01/2027 - ref R-1 (Z.O.)",
                       item_class="REPORT.IPM.Note.NDR", message_id="<ndr@example.net>",
                       body="Delivery has failed. Original message: Message-ID: "
                            "<iro." + "a" * 32 + "@council.example.gov.uk>")

    summary = poll(sessions, _reader(ews_server), tmp_path / "documents", now=NOW)

    assert (summary.returns, summary.bounces, summary.unmatched) == (4, 1, ["<q@example.net>"])
    with sessions() as s:
        returns = s.scalars(select(Return).order_by(Return.id)).all()
        letters = [s.get(Dispatch, r.dispatch_id) for r in returns]
        assert sorted(d.reference_code or "" for d in letters if d) == sorted(codes)
        first = next(r for r in returns if r.source_message_id == "<r0@example.net>")
        kept = Path(first.file_path or "")
        assert kept.read_bytes() == pdf and kept.is_relative_to(tmp_path / "documents")
        assert ".." not in kept.name
        bounced = s.get(Dispatch, no_form_id)
        assert bounced is not None and bounced.state == "bounced"
        assert s.scalar(select(Return.id).where(Return.dispatch_id == no_form_id)) is None
        # every reminder of a returned form was called off
        reminders = s.scalars(select(Dispatch).where(Dispatch.kind == REMINDER_KIND)).all()
        assert reminders and {d.state for d in reminders} == {"cancelled"}
        actions = [e.action for e in s.scalars(select(AuditEvent))]
        assert actions.count("return.recorded") == 4 and "dispatch.bounced" in actions
        assert actions.count("inbox.unmatched") == 1
        left = next(e for e in s.scalars(select(AuditEvent))
                    if e.action == "inbox.unmatched")
        assert left.details["sender_domain"] == "example.org" and left.details["sent_at"]
    # matched ones moved to Processed; the unmatched one stays for a person
    assert [i.message_id for i in ews_server.folder_items("Inbox")] == ["<q@example.net>"]
    assert len(ews_server.folder_items("Processed")) == 5
    # the watermark holds: a second poll sees nothing again
    again = poll(sessions, _reader(ews_server), tmp_path / "documents", now=NOW)
    assert again.total == 0


def test_a_second_reply_for_the_same_form_is_left(ews_server: FakeEwsServer, tmp_path: Path,
                                                  queued) -> None:  # type: ignore[no-untyped-def]
    sessions, codes, _ = queued
    ews_server.deliver(subject=f"form {codes[0]}", message_id="<a@example.net>")
    ews_server.deliver(subject=f"form {codes[0]} again", message_id="<b@example.net>")
    summary = poll(sessions, _reader(ews_server), tmp_path / "documents", now=NOW)
    assert summary.returns == 1 and summary.unmatched == ["<b@example.net>"]


def test_posted_return_recorded_by_code(tmp_path: Path, queued) -> None:  # type: ignore[no-untyped-def]
    sessions, codes, _ = queued
    with sessions() as s:
        letter = service.dispatch_by_code(s, codes[1].lower().replace("-", " - "))
        done = service.record_return(s, letter, received_on=dt.date(2026, 12, 20), channel="post")
        s.commit()
        assert done.reminders_called_off == 1
        with pytest.raises(RefusedError):
            service.record_return(s, letter, received_on=dt.date(2026, 12, 21), channel="post")
        with pytest.raises(NotFoundError):
            service.dispatch_by_code(s, "C-00000000")


def test_a_read_receipt_is_filed_not_returned_or_bounced(  # type: ignore[no-untyped-def]
        ews_server: FakeEwsServer, tmp_path: Path, queued) -> None:
    sessions, codes, _ = queued
    ews_server.deliver(subject=f"Read: LAC review - form {codes[0]}", body="",
                       item_class="REPORT.IPM.Note.IPNRN", message_id="<read@example.net>")
    ews_server.deliver(subject=f"Delivered: LAC review - form {codes[1]}", body="",
                       item_class="REPORT.IPM.Note.DR", message_id="<dr@example.net>")

    summary = poll(sessions, _reader(ews_server), tmp_path / "documents", now=NOW)

    assert (summary.returns, summary.bounces, summary.receipts) == (0, 0, 2)
    with sessions() as s:
        assert not s.scalars(select(Return)).all()
        assert not s.scalars(select(Dispatch).where(Dispatch.state == "bounced")).all()
    assert not ews_server.folder_items("Inbox")  # filed away, not left for a person


def _carer(sessions, code: str) -> str:  # type: ignore[no-untyped-def]
    from workers.store.models import Participant

    with sessions() as s:
        person = s.get(Participant, service.dispatch_by_code(s, code).participant_id)
        assert person is not None and person.email
        return person.email


def test_the_sender_is_kept_and_a_stranger_flagged(ews_server: FakeEwsServer, tmp_path: Path,
                                                   queued) -> None:  # type: ignore[no-untyped-def]
    sessions, codes, _ = queued
    carer, other = codes[2], codes[3]  # the carer's and the social worker's forms, by email
    ews_server.deliver(subject=f"form {carer}", message_id="<own@example.net>",
                       author=_carer(sessions, carer).upper())
    ews_server.deliver(subject=f"form {other}", message_id="<else@example.net>",
                       author="someone@elsewhere.example")
    assert poll(sessions, _reader(ews_server), tmp_path / "documents", now=NOW).returns == 2
    with sessions() as s:
        rows = {r.source_message_id: r for r in s.scalars(select(Return))}
        assert not rows["<own@example.net>"].needs_confirmation
        assert rows["<own@example.net>"].sender == _carer(sessions, carer).lower()
        assert rows["<else@example.net>"].needs_confirmation
        assert rows["<else@example.net>"].sender == "someone@elsewhere.example"


def test_the_poll_keeps_the_mailboxs_back_off(ews_server: FakeEwsServer, tmp_path: Path,
                                             queued) -> None:  # type: ignore[no-untyped-def]
    # Exchange's ErrorServerBusy is the account's: while the workers wait, the poll does not ask;
    # a wait the poll is told, the workers keep too (workers.mail.backoff)
    from workers.mail.backoff import InProcessBackoff
    from workers.queue.scheduler import JobContext
    from workers.returns.poll import make_job

    sessions, codes, _ = queued
    backoff = InProcessBackoff()
    job = make_job(lambda: _reader(ews_server), lambda: tmp_path / "documents",
                   lambda: (backoff, MAILBOX))

    def tick(at: dt.datetime) -> int:
        return job.run(JobContext(sessions, lambda ids: None, at, 20.0, 30.0, False))

    backoff.hold(MAILBOX.upper(), 30, NOW)  # the workers met a 30 s back-off
    ews_server.deliver(subject=f"form {codes[0]}", body="", message_id="<b0@example.net>")
    assert tick(NOW + dt.timedelta(seconds=29)) == 0
    assert ews_server.arrivals == []  # not one request while the mailbox waits

    ews_server.fail_next("ErrorServerBusy", back_off_ms=45_000, operation="SyncFolderItems")
    later = NOW + dt.timedelta(seconds=31)
    assert tick(later) == 0  # told to wait: nothing read, no error out of the scheduler
    assert 44.0 <= backoff.remaining(MAILBOX, later) <= 45.0  # and the workers will wait too
    asked = len(ews_server.arrivals)
    assert tick(later + dt.timedelta(seconds=44)) == 0 and len(ews_server.arrivals) == asked

    assert tick(later + dt.timedelta(seconds=46)) == 1  # the wait over: the return is filed
    with sessions() as s:
        assert s.scalar(select(Return.id).join(Dispatch).where(
            Dispatch.reference_code == codes[0])) is not None
