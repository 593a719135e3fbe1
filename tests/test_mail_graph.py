"""The Graph transport: msal and httpx against a local HTTPS identity + Graph endpoint."""

from __future__ import annotations

import pytest
from fakes.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraphServer

from workers.errors import AuthenticationError, PermanentDeliveryError, ThrottledError
from workers.mail.graph import PROPERTY_ID, GraphConfig, GraphTransport
from workers.mail.message import Attachment, OutgoingMessage
from workers.mail.mime import message_id_for

MAILBOX = "iro.service@council.example.gov.uk"
RECIPIENT = "sw.one@council.example.gov.uk"


def transport(server: FakeGraphServer, secret: str = CLIENT_SECRET) -> GraphTransport:
    return GraphTransport(
        GraphConfig(
            tenant_id=TENANT,
            client_id=CLIENT_ID,
            client_secret=secret,
            mailbox=MAILBOX,
            authority_host=server.origin,
            base_url=server.base_url,
            timeout_seconds=10,
            ca_bundle=str(server.ca_path),
        )
    )


def letter(key: str = "R-1042/invitation/P-3", *attachments: Attachment) -> OutgoingMessage:
    return OutgoingMessage(
        dispatch_key=key,
        to=RECIPIENT,
        subject="Review R-1042 (A.B.): invitation",
        body_text="Please find the invitation attached.",
        attachments=attachments
        or (Attachment("invitation.pdf", b"%PDF small", "application/pdf"),),
    )


def test_small_message_goes_in_one_sendmail_with_a_cached_token(
    graph_server: FakeGraphServer,
) -> None:
    t = transport(graph_server)
    first = t.send(letter())
    t.send(letter("R-1042/invitation/P-4"))
    t.close()

    assert len(graph_server.token_requests) == 1  # msal cached the token
    (form,) = graph_server.token_requests
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == [f"{graph_server.origin}/.default"]
    assert [p for m, p in graph_server.requests if m == "POST" and p.endswith("sendMail")] != []
    msg = graph_server.sent[0]
    assert msg["toRecipients"] == [{"emailAddress": {"address": RECIPIENT}}]
    assert msg["internetMessageId"] == message_id_for("R-1042/invitation/P-3", MAILBOX)
    assert {"id": PROPERTY_ID, "value": "R-1042/invitation/P-3"} in msg[
        "singleValueExtendedProperties"
    ]
    assert msg["attachments"][0]["content"] == b"%PDF small"
    assert first == msg["id"]  # found in Sent Items after sending


def test_attachment_over_3mb_goes_through_an_upload_session(graph_server: FakeGraphServer) -> None:
    big = bytes(range(256)) * (4 * 1024 * 1024 // 256 + 7)  # just over 4 MB, not chunk-aligned
    t = transport(graph_server)
    t.send(
        letter(
            "R-9/pack/P-1",
            Attachment("pack.pdf", big, "application/pdf"),
            Attachment("note.txt", b"small", "text/plain"),
        )
    )
    (msg,) = graph_server.sent
    contents = {a["name"]: a["content"] for a in msg["attachments"]}
    assert contents == {"pack.pdf": big, "note.txt": b"small"}
    assert graph_server.upload_puts >= 2  # chunked
    assert not any(p.endswith("sendMail") for _, p in graph_server.requests)
    assert t.find_sent("R-9/pack/P-1") == msg["id"]


def test_find_sent_is_none_for_a_key_never_sent(graph_server: FakeGraphServer) -> None:
    t = transport(graph_server)
    t.send(letter("R-1/x/P-1"))
    assert t.find_sent("R-1/x/P-2") is None
    assert t.find_sent("R-1/x/P-1") is not None
    assert t.find_sent("O'Brien's key") is None  # quotes are escaped, not injected


def test_429_is_throttled_with_retry_after(graph_server: FakeGraphServer) -> None:
    graph_server.fail_next(429, retry_after=7, path_contains="sendMail")
    t = transport(graph_server)
    with pytest.raises(ThrottledError) as info:
        t.send(letter())
    assert info.value.retry_after == 7
    assert graph_server.sent == []
    t.send(letter())
    assert len(graph_server.sent) == 1


def test_a_429_on_the_look_up_after_sending_is_not_a_failed_send(
    graph_server: FakeGraphServer,
) -> None:
    # Taken for a failed send, the letter would be queued again and sent twice.
    graph_server.fail_next(429, retry_after=5, path_contains="SentItems")
    assert transport(graph_server).send(letter()) == message_id_for("R-1042/invitation/P-3",
                                                                   MAILBOX)
    assert len(graph_server.sent) == 1 and graph_server.throttled_at


def test_401_from_graph_is_an_authentication_error(graph_server: FakeGraphServer) -> None:
    graph_server.fail_next(401, path_contains="sendMail")
    with pytest.raises(AuthenticationError):
        transport(graph_server).send(letter())


def test_wrong_client_secret_is_an_authentication_error(graph_server: FakeGraphServer) -> None:
    with pytest.raises(AuthenticationError, match="IRO_GRAPH_CLIENT_SECRET") as info:
        transport(graph_server, secret="wrong").send(letter())
    assert "wrong" not in str(info.value)
    assert graph_server.sent == []


def test_invalid_recipient_is_permanent_without_the_address(graph_server: FakeGraphServer) -> None:
    graph_server.fail_next(400, code="ErrorInvalidRecipients", path_contains="sendMail")
    with pytest.raises(PermanentDeliveryError, match="recipient") as info:
        transport(graph_server).send(letter())
    assert RECIPIENT not in str(info.value)


def test_a_throttled_upload_leaves_no_draft_with_the_pack(graph_server: FakeGraphServer) -> None:
    """Issue 16 §6: a 429 mid-upload must not leave the child's pack in Drafts for every retry;
    a draft an attempt could not delete goes at the next attempt."""
    big = bytes(range(256)) * (4 * 1024 * 1024 // 256 + 7)
    t = transport(graph_server)
    pack = letter("R-9/pack/P-2", Attachment("pack.pdf", big, "application/pdf"))

    graph_server.fail_next(429, retry_after=3, path_contains="/upload/")
    with pytest.raises(ThrottledError):
        t.send(pack)
    assert graph_server.drafts == {} and graph_server.sent == []  # deleted at once

    graph_server.fail_next(429, retry_after=3, path_contains="/upload/")
    graph_server.fail_next(503, path_contains="draft-", method="DELETE")  # ... and its delete too
    with pytest.raises(ThrottledError):
        t.send(pack)
    assert len(graph_server.drafts) == 1  # left behind by that attempt

    t.send(pack)  # the next attempt removes it first
    assert graph_server.drafts == {}
    (msg,) = graph_server.sent
    assert msg["attachments"][0]["content"] == big
