"""mime_bytes (the SMTP transport's fast path) sends what build_mime describes, read back by the
standard library's parser: same headers, same text, same attachments byte for byte."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from workers.errors import PermanentDeliveryError
from workers.mail.message import Attachment, OutgoingMessage
from workers.mail.mime import build_mime, mime_bytes

MAILBOX = "iro.service@council.example.gov.uk"
WHEN = dt.datetime(2027, 3, 1, 9, 30, tzinfo=dt.UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
DOC = bytes(range(256)) * 170  # 43 KB of every byte value, like a zipped letter
HEADERS = ("Message-ID", "Date", "From", "To", "Cc", "Reply-To", "Subject", "X-IRO-Dispatch",
           "Auto-Submitted", "Content-Type")

CASES: dict[str, OutgoingMessage] = {
    "plain": OutgoingMessage("R-1/invitation/P-1", "carer@council.example.gov.uk",
                             "Review R-1 (A.B.) 12 March 2027: invitation", "Dear Carer,\n\nHi.\n"),
    "letter": OutgoingMessage(
        "R-1042/invitation/P-7", "carer@council.example.gov.uk",
        "Review R-1042 (Z.O.) 12 March 2027: invitation",
        "Dear Zoë's carer,\n\nThe invitation is attached.\nVenue: Smith & Sons, Room 2\n",
        reply_to="team@council.example.gov.uk", cc=("sw@council.example.gov.uk",),
        attachments=(Attachment("R-1042-P-7-invitation.docx", DOC, DOCX),
                     Attachment("notes.txt", b"one\ntwo\n", "text/plain"))),
    "html": OutgoingMessage("R-2/x/P-2", "a@council.example.gov.uk",
                            "Reminder: LAC review 15/03/2026 - ref R-2 (J.S.) - form C-XXXX " * 2,
                            "text " * 400, body_html="<p>Dear Carer</p>",
                            attachments=(Attachment("pack.pdf", b"%PDF-1.7\n", PDF),)),
    "unicode filename (slow path)": OutgoingMessage(
        "R-3/x/P-3", "a@council.example.gov.uk", "Review", "Body",
        attachments=(Attachment("Zoë-letter.docx", DOC[:100], DOCX),)),
}


def parsed(data: bytes) -> EmailMessage:
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def summary(msg: EmailMessage) -> dict[str, Any]:
    body = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    return {
        "headers": {h: str(msg[h]).split(";")[0] if msg[h] else None for h in HEADERS},
        "text": body.get_content() if body is not None else None,
        "html": html.get_content() if html is not None else None,
        "attachments": [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True))
                        for a in msg.iter_attachments()],
    }


@pytest.mark.parametrize("name", CASES)
def test_same_message_as_build_mime(name: str) -> None:
    message = CASES[name]
    kw: dict[str, Any] = {"sender": MAILBOX, "display_name": "Independent Reviewing Service",
                          "reply_to": "replies@council.example.gov.uk", "date": WHEN}
    fast, slow = parsed(mime_bytes(message, **kw)), build_mime(message, **kw)
    assert summary(fast) == summary(parsed(slow.as_bytes(policy=policy.SMTP)))
    assert summary(fast)["attachments"] == [
        (a.filename, a.content_type, a.content) for a in message.attachments
    ]


def test_wire_format_is_crlf_with_short_lines() -> None:
    data = mime_bytes(CASES["letter"], sender=MAILBOX, date=WHEN)
    lines = data.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and data.endswith(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    assert data.isascii()


def test_a_display_name_outside_ascii_is_encoded() -> None:
    data = mime_bytes(CASES["plain"], sender=MAILBOX, display_name="Service d'Évaluation",
                      date=WHEN)
    assert str(parsed(data)["From"]) == f"Service d'Évaluation <{MAILBOX}>"
    assert data.isascii()


@pytest.mark.parametrize("field", ["subject", "to"])
def test_header_injection_is_refused_without_echoing_it(field: str) -> None:
    values = {"dispatch_key": "R-1/x/P-1", "to": "a@council.example.gov.uk", "subject": "Review"}
    values[field] = values[field] + "\r\nBcc: evil@example.com"
    bad = OutgoingMessage(values["dispatch_key"], values["to"], values["subject"], "b")
    with pytest.raises(PermanentDeliveryError) as info:
        mime_bytes(bad, sender=MAILBOX, date=WHEN)
    assert "evil" not in str(info.value)
