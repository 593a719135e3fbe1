"""Build the RFC 5322 message for an ``OutgoingMessage``: pure, no I/O.

The Message-ID is derived from the dispatch key and the sending mailbox's domain, so every
attempt at the same dispatch carries the same id. For SMTP and the outbox that id *is* the
"did it go?" record: the worker stores it on the dispatch before the attempt, and the
recipient's mail system discards a duplicate with the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from workers.errors import PermanentDeliveryError
from workers.mail.message import OutgoingMessage

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
    date: dt.datetime | None = None,
) -> EmailMessage:
    """The email as it goes on the wire (SMTP) or into the outbox (.eml).

    ``reply_to`` on the message wins over the mailbox's default reply-to. A header that cannot be
    encoded (e.g. a newline in a subject) is a PermanentDeliveryError naming the dispatch key only.
    """
    try:
        msg = EmailMessage()
        msg["Message-ID"] = message_id_for(message.dispatch_key, sender)
        msg["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
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
            f"dispatch {message.dispatch_key}: the message cannot be encoded "
            f"({type(exc).__name__}); check the subject, addresses and attachment names"
        ) from exc
    return msg


def envelope_recipients(message: OutgoingMessage) -> list[str]:
    return [message.to, *message.cc]
