"""Build the RFC 5322 message for an ``OutgoingMessage``: pure, no I/O.

The Message-ID is derived from the dispatch key and the sending mailbox's domain, so every
attempt at the same dispatch carries the same id. For SMTP and the outbox that id *is* the
"did it go?" record: the worker stores it on the dispatch before the attempt, and the
recipient's mail system discards a duplicate with the same Message-ID.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import uuid
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from workers.errors import PermanentDeliveryError
from workers.mail.message import OutgoingMessage, loggable_key

DISPATCH_HEADER = "X-IRO-Dispatch"


def key_hash(dispatch_key: str) -> str:
    """A stable, filename- and header-safe digest of a dispatch key (no personal data in keys,
    but hashing keeps the id opaque and bounded in length)."""
    return hashlib.sha256(dispatch_key.encode("utf-8")).hexdigest()[:32]


def mailbox_domain(mailbox: str) -> str:
    domain = mailbox.rpartition("@")[2]
    if not domain or "@" not in mailbox:
        raise PermanentDeliveryError(
            f"the sending mailbox {mailbox!r} has no domain; "
            "set IRO_MAILBOX_ADDRESS to a full address"
        )
    return domain


def message_id_for(dispatch_key: str, mailbox: str) -> str:
    """``<iro.{sha256(key)[:32]}@{mailbox domain}>``: the same for every attempt at a dispatch."""
    return f"<iro.{key_hash(dispatch_key)}@{mailbox_domain(mailbox)}>"


def build_mime(
    message: OutgoingMessage,
    *,
    sender: str,
    display_name: str = "",
    reply_to: str | None = None,
    date: dt.datetime,
) -> EmailMessage:
    """The email as it goes on the wire (SMTP) or into the outbox (.eml).

    ``reply_to`` on the message wins over the mailbox's default reply-to. A header that cannot be
    encoded (e.g. a newline in a subject) is a PermanentDeliveryError naming the dispatch key only.
    """
    try:
        msg = EmailMessage()
        msg["Message-ID"] = message_id_for(message.dispatch_key, sender)
        msg["Date"] = format_datetime(date)
        msg["From"] = Address(display_name=display_name, addr_spec=sender)
        msg["To"] = message.to
        if message.cc:
            msg["Cc"] = ", ".join(message.cc)
        chosen_reply_to = message.reply_to or reply_to
        if chosen_reply_to:
            msg["Reply-To"] = chosen_reply_to
        msg["Subject"] = message.subject
        msg[DISPATCH_HEADER] = message.dispatch_key
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: tells autoresponders not to loop
        msg.set_content(message.body_text)
        if message.body_html is not None:
            msg.add_alternative(message.body_html, subtype="html")
        for att in message.attachments:
            maintype, _, subtype = att.content_type.partition("/")
            msg.add_attachment(
                att.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=att.filename,
            )
    except (ValueError, TypeError, IndexError) as exc:
        # The library's message may quote the bad header value; keep it out of ours.
        raise PermanentDeliveryError(
            f"dispatch {loggable_key(message.dispatch_key)}: the message cannot be encoded "
            f"({type(exc).__name__}); check the subject, addresses and attachment names"
        ) from exc
    return msg


def envelope_recipients(message: OutgoingMessage) -> list[str]:
    return [message.to, *message.cc]


# -- the same message as bytes, fast --------------------------------------------------------------

CRLF = b"\r\n"
MAX_LINE = 998  # RFC 5322 §2.1.1


def mime_bytes(
    message: OutgoingMessage,
    *,
    sender: str,
    display_name: str = "",
    reply_to: str | None = None,
    date: dt.datetime,
) -> bytes:
    """``build_mime``'s message as CRLF bytes, ready for ``smtplib.SMTP.sendmail``.

    Flattening an EmailMessage folds every header through the header parser and walks a base64
    attachment line by line in Python: about 6 ms a letter with a 40 KB invitation, more than
    rendering it. The common case (ASCII addresses, keys and file names) is written here directly
    with the standard library's encoders; anything else goes through ``build_mime``, so what is
    sent is the same either way (tests/test_mail_mime_bytes.py compares them).
    """
    names = [message.to, *message.cc, sender, message.dispatch_key,
             *(a.filename for a in message.attachments), *(a.content_type
                                                           for a in message.attachments)]
    chosen_reply_to = message.reply_to or reply_to
    if chosen_reply_to:
        names.append(chosen_reply_to)
    unusual = any(not n.isascii() or '"' in n or "\\" in n for n in names)
    injected = any("\r" in v or "\n" in v for v in (*names, message.subject, display_name))
    if unusual or injected:  # build_mime refuses injection with a clear error, or encodes it
        return build_mime(message, sender=sender, display_name=display_name, reply_to=reply_to,
                          date=date).as_bytes(policy=policy.SMTP)
    headers = [
        ("Message-ID", message_id_for(message.dispatch_key, sender)),
        ("Date", format_datetime(date)),
        ("From", formataddr((display_name, sender)) if display_name else sender),
        ("To", message.to),
    ]
    if message.cc:
        headers.append(("Cc", ", ".join(message.cc)))
    if chosen_reply_to:
        headers.append(("Reply-To", chosen_reply_to))
    headers += [
        ("Subject", _subject(message.subject)),
        (DISPATCH_HEADER, message.dispatch_key),
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: tells autoresponders not to loop
        ("MIME-Version", "1.0"),
    ]
    body = _text_part(message.body_text, "plain")
    if message.body_html is not None:
        body = _multipart("alternative", [body, _text_part(message.body_html, "html")])
    if message.attachments:
        body = _multipart("mixed", [body, *(_attachment(a.filename, a.content, a.content_type)
                                            for a in message.attachments)])
    head = b"".join(f"{name}: {value}".encode("ascii") + CRLF for name, value in headers)
    return head + body


def _subject(subject: str) -> str:
    if subject.isascii() and len(subject) <= 78 - len("Subject: "):
        return subject
    return Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _text_part(text: str, subtype: str) -> bytes:
    data = text.encode("utf-8")
    if text.isascii() and all(len(line) <= MAX_LINE for line in data.splitlines()):
        cte, payload = "7bit", data.replace(b"\r\n", b"\n")
    else:
        cte, payload = "quoted-printable", binascii.b2a_qp(data.replace(b"\r\n", b"\n"),
                                                            istext=True)
    payload = payload.replace(b"\n", CRLF)
    if not payload.endswith(CRLF):
        payload += CRLF
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode("ascii") + payload


def _attachment(filename: str, content: bytes, content_type: str) -> bytes:
    maintype, _, subtype = content_type.partition("/")
    ctype = f"{maintype or 'application'}/{subtype or 'octet-stream'}"
    return (f'Content-Type: {ctype}; name="{filename}"\r\n'
            "Content-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'
            ).encode("ascii") + base64.encodebytes(content).replace(b"\n", CRLF)


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = f"=_iro_{uuid.uuid4().hex}"
    while any(boundary.encode("ascii") in p for p in parts):  # never, but cheap to be sure
        boundary = f"=_iro_{uuid.uuid4().hex}"
    marker = b"--" + boundary.encode("ascii")
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode("ascii")]
    for part in parts:
        out += [marker, CRLF, part, CRLF]
    out += [marker, b"--", CRLF]
    return b"".join(out)
