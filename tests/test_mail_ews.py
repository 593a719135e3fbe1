"""The EWS transport: exchangelib itself against a local EWS SOAP endpoint (tests/fakes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fakes.ews_mailbox import FakeAttachment
from fakes.ews_server import FakeEwsServer

from workers.errors import (
    AuthenticationError,
    PermanentDeliveryError,
    ThrottledError,
    TransientDeliveryError,
)
from workers.mail.ews import PROPERTY_NAME, EwsConfig, EwsTransport
from workers.mail.message import Attachment, OutgoingMessage
from workers.mail.mime import message_id_for

MAILBOX = "iro.service@council.example.gov.uk"
RECIPIENT = "sw.one@council.example.gov.uk"


def transport(server: FakeEwsServer, password: str | None = None) -> EwsTransport:
    return EwsTransport(
        EwsConfig(
            endpoint=server.url,
            mailbox=MAILBOX,
            auth="basic",
            username=server.username,
            password=password or server.password,
            timeout_seconds=10,
            reply_to="iro.replies@council.example.gov.uk",
        )
    )


def letter(key: str = "R-1042/invitation/P-3") -> OutgoingMessage:
    return OutgoingMessage(
        dispatch_key=key,
        to=RECIPIENT,
        subject="Review R-1042 (A.B.): invitation",
        body_text="Please find the invitation attached.",
        attachments=(Attachment("invitation.pdf", b"%PDF-1.7 letter", "application/pdf"),),
    )


def test_send_saves_to_sent_items_tagged_with_the_dispatch_key(ews_server: FakeEwsServer) -> None:
    t = transport(ews_server)
    item_id = t.send(letter())
    t.close()

    (sent,) = ews_server.sent
    assert sent.to == [RECIPIENT]
    assert sent.reply_to == ["iro.replies@council.example.gov.uk"]
    assert sent.extended_value(PROPERTY_NAME) == "R-1042/invitation/P-3"
    assert sent.message_id == message_id_for("R-1042/invitation/P-3", MAILBOX)
    assert [(a.name, a.content) for a in sent.attachments] == [
        ("invitation.pdf", b"%PDF-1.7 letter")
    ]
    (saved,) = ews_server.folder_items("Sent Items")
    assert item_id == saved.id  # looked up after send_and_save, which returns no id


def test_find_sent_finds_a_sent_key_and_none_for_a_key_never_sent(
    ews_server: FakeEwsServer,
) -> None:
    t = transport(ews_server)
    t.send(letter("R-1/invitation/P-1"))
    t.send(letter("R-1/invitation/P-2"))
    fresh = transport(ews_server)  # as a retry in another worker would
    assert fresh.find_sent("R-1/invitation/P-2") == ews_server.folder_items("Sent Items")[1].id
    assert fresh.find_sent("R-1/invitation/P-9") is None
    assert "FindItem" in ews_server.requests


def test_server_busy_is_throttled_with_the_servers_back_off(ews_server: FakeEwsServer) -> None:
    t = transport(ews_server)
    ews_server.fail_next("ErrorServerBusy", back_off_ms=7500, operation="CreateItem")
    with pytest.raises(ThrottledError) as info:
        t.send(letter())
    assert info.value.retry_after == 7.5
    assert ews_server.sent == []  # FailFast: exchangelib did not retry inside the worker
    assert ews_server.requests.count("CreateItem") == 1
    t.send(letter())  # the next attempt, after the back-off, goes through
    assert len(ews_server.sent) == 1


def test_a_busy_answer_to_the_look_up_after_sending_is_not_a_failed_send(
    ews_server: FakeEwsServer,
) -> None:
    # Taken for a failed send, the letter would be queued again and sent twice.
    t = transport(ews_server)
    ews_server.fail_next("ErrorServerBusy", back_off_ms=5000, operation="FindItem")
    assert t.send(letter()) == message_id_for("R-1042/invitation/P-3", MAILBOX)
    assert len(ews_server.sent) == 1 and ews_server.busy_at


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("ErrorInvalidRecipients", "recipient address"),
        ("ErrorMessageSizeExceeded", "too large"),
        ("ErrorSendAsDenied", "Send As"),
    ],
)
def test_undeliverable_messages_fail_with_an_actionable_reason(
    ews_server: FakeEwsServer, code: str, reason: str
) -> None:
    ews_server.fail_next(code, operation="CreateItem")
    with pytest.raises(PermanentDeliveryError, match=reason) as info:
        transport(ews_server).send(letter())
    assert code in str(info.value) and "R-1042/invitation/P-3" in str(info.value)
    assert RECIPIENT not in str(info.value)


def test_http_401_is_an_authentication_error(ews_server: FakeEwsServer) -> None:
    with pytest.raises(AuthenticationError, match="IRO_EWS_PASSWORD") as info:
        transport(ews_server, password="wrong").send(letter())
    assert "wrong" not in str(info.value)
    assert ews_server.requests.count("GetFolder") == 1  # no retry storm on a bad password


def test_unreachable_endpoint_is_transient() -> None:
    from fakes.smtp import free_port

    t = EwsTransport(
        EwsConfig(
            endpoint=f"http://127.0.0.1:{free_port()}/EWS/Exchange.asmx",
            mailbox=MAILBOX,
            auth="basic",
            username="u",
            password="p",
            timeout_seconds=5,
        )
    )
    with pytest.raises(TransientDeliveryError):
        t.send(letter())


def test_the_fake_serves_an_inbox_reader_through_exchangelib(ews_server: FakeEwsServer) -> None:
    """GetItem, GetAttachment, SyncFolderItems, UpdateItem and MoveItem, as an inbox poll uses."""
    from exchangelib.folders import Inbox

    from workers.mail.ews import build_account

    ews_server.deliver(
        subject="RE: Review R-1042 ref C-7Q2K",
        author="carer@council.example.gov.uk",
        message_id="<reply-1@example>",
    ).attachments.append(
        FakeAttachment("AT-1", "form.pdf", "application/pdf", b"%PDF returned form")
    )
    account = build_account(
        EwsConfig(
            endpoint=ews_server.url,
            mailbox=MAILBOX,
            auth="basic",
            username=ews_server.username,
            password=ews_server.password,
        )
    )
    inbox = account.root.get_default_folder(Inbox)
    processed = inbox // "Processed"
    changes = list(inbox.sync_items(only_fields=["id", "changekey"]))
    assert [c[0] for c in changes] == ["create"]
    state = inbox.item_sync_state
    (item,) = account.fetch(ids=[changes[0][1]])
    assert item.subject == "RE: Review R-1042 ref C-7Q2K"
    assert item.message_id == "<reply-1@example>"
    assert item.attachments[0].content == b"%PDF returned form"
    item.is_read = True
    item.save(update_fields=["is_read"])
    assert ews_server.folder_items("Inbox")[0].is_read
    item.move(processed)
    assert [i.subject for i in ews_server.folder_items("Processed")] == [item.subject]
    inbox.item_sync_state = state
    assert [c[0] for c in inbox.sync_items(only_fields=["id"])] == ["delete"]


@pytest.mark.parametrize("status", [500, 503])  # transient, and read as "busy"
def test_a_letter_whose_answer_was_lost_is_asked_about_not_sent_again(
    ews_server: FakeEwsServer, tmp_path: Path, status: int
) -> None:
    """Exchange sent it, but its answer failed (a timeout, a 503 on the way back): the next
    attempt looks in Sent Items first and records the letter instead of sending it twice."""
    from factories import sqlite_store
    from test_queue_dispatching import dispatcher, make_letters

    from workers.core.clock import SystemClock
    from workers.queue.outcomes import RetryLater
    from workers.store.models import Dispatch

    sessions = sqlite_store(tmp_path)
    [dispatch_id] = make_letters(sessions, 1)
    d = dispatcher(sessions, transport(ews_server))
    ews_server.fail_next(http_status=status, operation="CreateItem", after_doing=True)
    with pytest.raises(RetryLater):
        d.process(dispatch_id)
    assert len(ews_server.sent) == 1
    with sessions() as session:
        row = session.get(Dispatch, dispatch_id)
        assert row is not None and row.state == "sending"  # whoever takes it next asks first

    d.clock = SystemClock(dt.timedelta(minutes=15))  # the back-off and the claim are over
    assert d.process(dispatch_id).kind == "recovered"
    assert len(ews_server.sent) == 1
    with sessions() as session:
        assert session.get(Dispatch, dispatch_id).state == "sent"  # type: ignore[union-attr]
