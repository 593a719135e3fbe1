"""The dispatching core on real stores and a real SMTP server: claim, ask, send, classify."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_child, make_participant, make_review, postgres_store, sqlite_store
from fakes.smtp import SmtpServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from workers.core.clock import SYSTEM_CLOCK, SystemClock
from workers.errors import ThrottledError
from workers.mail.message import OutgoingMessage
from workers.mail.mime import message_id_for
from workers.mail.outbox import OutboxConfig, OutboxTransport
from workers.mail.pause import default_pause_hooks
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher
from workers.queue.outcomes import RetryLater
from workers.store.models import AuditEvent, Dispatch, Participant

utcnow = SYSTEM_CLOCK.now  # relative times only: these tests never need a date

MAILBOX = "iro.service@council.example.gov.uk"
ALLOWED = ("council.example.gov.uk", "cafcass.gov.uk")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    if request.param == "sqlite":
        return sqlite_store(tmp_path)
    return postgres_store(request.getfixturevalue("pg_database"))


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpTransport]:
    transport = SmtpTransport(
        SmtpConfig(host=smtp_server.host, port=smtp_server.port, mailbox=MAILBOX, timeout_seconds=5)
    )
    yield transport
    transport.close()


def make_letters(sessions: sessionmaker[Session], count: int, **overrides: object) -> list[int]:
    with sessions() as session:
        review = make_review(session, make_child(session, given_name="Zoë", family_name="O'Neil"))
        ids = []
        for n in range(count):
            person = make_participant(session, review, "carer")
            row = Dispatch(
                key=f"{review.ref}/invitation/{person.ref}", kind="letter", channel="email",
                review_id=review.id, participant_id=person.id, recipient=person.email or "",
                reference_code=f"REF{review.id}X{n}", state="queued", due_at=utcnow(),
            )
            for name, value in overrides.items():
                setattr(row, name, value)
            session.add(row)
            session.flush()
            ids.append(row.id)
        session.commit()
    return ids


def dispatcher(sessions: sessionmaker[Session], transport: object) -> Dispatcher:
    return Dispatcher(
        sessions=sessions,
        transport=transport,  # type: ignore[arg-type]
        compose=Composers(ComposeContext(allowed_domains=ALLOWED)),
        pause=default_pause_hooks(),
        lease=30,
    )


def row(sessions: sessionmaker[Session], dispatch_id: int) -> Dispatch:
    with sessions() as session:
        found = session.get(Dispatch, dispatch_id)
        assert found is not None
        return found


def actions(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_sends_once_and_records_message_id(
    sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    [dispatch_id] = make_letters(sessions, 1)
    d = dispatcher(sessions, smtp)

    first = d.process(dispatch_id)
    again = d.process(dispatch_id)

    assert (first.kind, again.kind) == ("sent", "skipped")
    sent = row(sessions, dispatch_id)
    assert sent.state == "sent" and sent.attempts == 1 and sent.sent_at is not None
    assert sent.message_id == message_id_for(sent.key, MAILBOX)
    [msg] = smtp_server.wait_for(1)
    assert msg["Message-ID"] == sent.message_id and msg["X-IRO-Dispatch"] == sent.key
    # subjects carry the reference and initials, never the child's name
    assert "(Z.O.)" in msg["Subject"] and "Zoë" not in msg["Subject"]
    assert actions(sessions) == ["dispatch.sent"]


def test_letter_carries_the_invitation_rendered_from_its_word_template(
    sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    import io

    from docx import Document

    [dispatch_id] = make_letters(sessions, 1)
    assert dispatcher(sessions, smtp).process(dispatch_id).kind == "sent"

    [msg] = smtp_server.wait_for(1)
    [part] = [p for p in msg.iter_attachments()]
    assert part.get_content_type().endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in Document(io.BytesIO(part.get_content())).paragraphs)
    sent = row(sessions, dispatch_id)
    with sessions() as session:
        person = session.get(Participant, sent.participant_id)
        assert person is not None
        # the addressee and the child from the case record (inside the letter, never the subject);
        # to a carer the child is named as they know her, by her given name
        assert person.role == "carer"
        assert f"Dear {person.name}," in text and "for Zoë" in text and "O'Neil" not in text
    assert str(part.get_filename()).endswith("-invitation.docx")
    assert "Zoë" not in str(msg["Subject"])


def test_concurrent_copies_send_once(
    sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    ids = make_letters(sessions, 5)
    d = dispatcher(sessions, smtp)
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(dispatch_id: int) -> None:
        try:
            kind: str = d.process(dispatch_id).kind
        except RetryLater:  # found it claimed by a live copy: comes back after the lease
            kind = "later"
        with lock:
            outcomes.append(kind)

    # eight copies of every message, all at once: what a reconciler plus a retry could produce
    threads = [threading.Thread(target=work, args=(i,)) for i in ids for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count("sent") == 5
    assert outcomes.count("skipped") + outcomes.count("later") == 35
    smtp_server.wait_for(5)
    assert len(smtp_server.message_ids()) == 5 == len(set(smtp_server.message_ids()))


def test_live_claim_is_left_alone_and_expired_one_is_taken_over(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    outbox = OutboxTransport(OutboxConfig(directory=tmp_path / "outbox", mailbox=MAILBOX))
    live, expired, already = make_letters(sessions, 3, state="sending")
    now = utcnow()
    with sessions() as session:
        for dispatch_id, claimed in ((live, now), (expired, now - dt.timedelta(minutes=5)),
                                     (already, now - dt.timedelta(minutes=5))):
            session.execute(update(Dispatch).where(Dispatch.id == dispatch_id)
                            .values(claimed_at=claimed, attempts=1))
        session.commit()
    d = dispatcher(sessions, outbox)
    # `already` went out before its worker died: the outbox has it, so it is not sent again
    with sessions() as session:
        done = session.get(Dispatch, already)
        assert done is not None
        msg = d.compose(session, done)
    outbox.send(msg)
    before = outbox.path_for(msg.dispatch_key).stat().st_mtime_ns

    # a live claim is left alone, and this copy comes back when the lease (30 s) ends, so a
    # killed worker's letter goes then rather than at the reconciler's next pass
    with pytest.raises(RetryLater) as later:
        d.process(live)
    assert 28 < later.value.delay_seconds <= 31.5 and later.value.throttled
    assert d.process(expired).kind == "sent"
    assert d.process(already).kind == "recovered"

    assert row(sessions, live).state == "sending"
    assert row(sessions, expired).attempts == 2
    assert outbox.path_for(msg.dispatch_key).stat().st_mtime_ns == before
    assert row(sessions, already).message_id == message_id_for(msg.dispatch_key, MAILBOX)


def test_refused_recipient_fails_with_reason(
    sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    [dispatch_id] = make_letters(sessions, 1)
    smtp_server.refuse_recipient(row(sessions, dispatch_id).recipient)

    outcome = dispatcher(sessions, smtp).process(dispatch_id)

    failed = row(sessions, dispatch_id)
    assert outcome.kind == "failed" and failed.state == "failed"
    assert "refused the recipient" in (failed.last_error or "")
    assert failed.recipient not in (failed.last_error or "")  # no addresses in errors
    assert actions(sessions) == ["dispatch.failed"]


def test_address_outside_allow_list_fails_before_sending(
    sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    [dispatch_id] = make_letters(sessions, 1)
    with sessions() as session:
        d = session.get(Dispatch, dispatch_id)
        assert d is not None
        person = session.get(Participant, d.participant_id)
        assert person is not None
        person.email = d.recipient = "someone@gmail.example"
        session.commit()

    assert dispatcher(sessions, smtp).process(dispatch_id).kind == "failed"
    assert "outside the allowed domains" in (row(sessions, dispatch_id).last_error or "")
    assert smtp_server.received == []


def test_connection_error_requeues_with_backoff(sessions: sessionmaker[Session]) -> None:
    [dispatch_id] = make_letters(sessions, 1)
    from fakes.smtp import free_port

    dead = SmtpTransport(SmtpConfig(host="127.0.0.1", port=free_port(), mailbox=MAILBOX,
                                    timeout_seconds=2))
    d = dispatcher(sessions, dead)

    with pytest.raises(RetryLater) as caught:
        d.process(dispatch_id)

    assert not caught.value.throttled and caught.value.delay_seconds >= 4
    waiting = row(sessions, dispatch_id)
    assert waiting.state == "queued" and "connection failed" in (waiting.last_error or "")
    assert waiting.due_at > utcnow()
    # a copy arriving before the back-off is over does nothing
    assert d.process(dispatch_id).kind == "skipped"


class ThrottlingOnce:
    """The real SMTP transport behind a server that asks us to wait once (as EWS's ErrorServerBusy
    or Graph's 429 do); the EWS and Graph tests cover those transports' own mapping."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner, self.name, self.mailbox, self.calls = inner, inner.name, inner.mailbox, 0

    def send(self, message: OutgoingMessage) -> str:
        self.calls += 1
        if self.calls == 1:
            raise ThrottledError("dispatch throttled by the server", retry_after=42.0)
        return self.inner.send(message)

    def find_sent(self, dispatch_key: str) -> str | None:
        return None

    def close(self) -> None:
        self.inner.close()


def test_throttling_waits_the_servers_delay(
    sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    [dispatch_id] = make_letters(sessions, 1)
    d = dispatcher(sessions, ThrottlingOnce(smtp))

    with pytest.raises(RetryLater) as caught:
        d.process(dispatch_id)
    assert caught.value.throttled and caught.value.delay_seconds == 42.0
    waiting = row(sessions, dispatch_id)
    assert waiting.state == "queued"
    assert dt.timedelta(seconds=40) < waiting.due_at - utcnow() <= dt.timedelta(seconds=42)

    d.clock = SystemClock(dt.timedelta(seconds=43))  # the server's delay has passed
    assert d.process(dispatch_id).kind == "sent"
    assert len(smtp_server.wait_for(1)) == 1


def test_the_servers_wait_holds_back_every_letter_of_the_mailbox(
    sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    first, second = make_letters(sessions, 2)
    server = ThrottlingOnce(smtp)
    d = dispatcher(sessions, server)

    with pytest.raises(RetryLater) as told:
        d.process(first)
    with pytest.raises(RetryLater) as held:
        d.process(second)

    # the letter that met the answer comes back ahead of any backlog; the other keeps its place
    assert told.value.urgent and not held.value.urgent
    assert held.value.throttled and held.value.delay_seconds >= 42
    assert server.calls == 1  # nothing more reached the server during its back-off
    untouched = row(sessions, second)
    assert untouched.state == "queued" and untouched.attempts == 0  # not even claimed

    d.clock = SystemClock(dt.timedelta(seconds=43))  # the back-off has passed
    assert [d.process(i).kind for i in (first, second)] == ["sent", "sent"]
    assert len(smtp_server.wait_for(2)) == 2


class BusyOnLookUp(ThrottlingOnce):
    """Asked whether a letter went, the server says it is busy (EWS FindItem, Graph's search)."""

    def find_sent(self, dispatch_key: str) -> str | None:
        raise ThrottledError("dispatch look-up throttled by the server", retry_after=12.0)


def test_a_busy_answer_to_did_it_go_keeps_the_letter_sending_and_holds_everyone_back(
    sessions: sessionmaker[Session], smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    orphan, other = make_letters(sessions, 2)
    with sessions() as session:  # its worker died mid-send
        session.execute(update(Dispatch).where(Dispatch.id == orphan).values(
            state="sending", claimed_at=utcnow() - dt.timedelta(minutes=5), attempts=1))
        session.commit()
    server = BusyOnLookUp(smtp)
    d = dispatcher(sessions, server)

    with pytest.raises(RetryLater) as busy:
        d.process(orphan)
    assert busy.value.urgent and busy.value.delay_seconds >= 31  # past the wait and its claim
    assert row(sessions, orphan).state == "sending"  # the next attempt asks again first
    with pytest.raises(RetryLater):
        d.process(other)
    assert server.calls == 0 and smtp_server.received == []


def test_wrong_password_pauses_all_sending_with_one_alert(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.require_auth("iro", "right")
    wrong = SmtpTransport(SmtpConfig(host=smtp_server.host, port=smtp_server.port,
                                     mailbox=MAILBOX, username="iro", password="wrong"))
    ids = make_letters(sessions, 3)
    d = dispatcher(sessions, wrong)

    outcomes = [d.process(i).kind for i in ids]

    assert outcomes == ["paused", "paused", "paused"]
    assert [row(sessions, i).state for i in ids] == ["queued"] * 3
    assert [r for r in caplog.records if r.levelname == "CRITICAL"].__len__() == 1
    assert actions(sessions).count("sending.paused") == 1
    assert smtp_server.received == []


def test_an_empty_allow_list_allows_no_unconfirmed_address() -> None:
    """An empty allow-list must never mean 'anyone': send time agrees with the preflight."""
    from workers.mail.allowlist import may_email

    assert not may_email("carer@gmail.example", confirmed=False, allowed=())
    assert may_email("carer@gmail.example", confirmed=True, allowed=())
    assert may_email("sw@Council.Example.gov.uk", confirmed=False,
                     allowed=["council.example.gov.uk"])
