"""The message every transport sends, and the interface every transport implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"


def loggable_key(dispatch_key: str) -> str:
    """A dispatch key as errors and logs may show it: an escalation notice's key ends in its
    addressee's address (workers.escalation.planned), which is left out."""
    return "/".join("(address)" if "@" in part else part for part in dispatch_key.split("/"))


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class OutgoingMessage:
    """One email to one recipient.

    ``dispatch_key`` is the dispatch's unique key: transports stamp it on the message (a
    deterministic Message-ID for SMTP and outbox, an extended property for EWS, a single-value
    extended property / internet message header for Graph) so a retry can ask "did it go?".
    """

    dispatch_key: str
    to: str
    subject: str
    body_text: str
    body_html: str | None = None
    reply_to: str | None = None
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = field(default=())


class Transport(Protocol):
    """What the workers need of a mail transport.

    ``send`` returns the transport's message id. ``find_sent`` returns that id if a message
    with this dispatch key was already sent (so a retry after a crash never sends twice),
    else None. Both raise only ``workers.errors.DeliveryError`` subclasses.
    """

    name: str
    mailbox: str  # the sending mailbox, the unit of rate limiting

    def send(self, message: OutgoingMessage) -> str: ...

    def find_sent(self, dispatch_key: str) -> str | None: ...

    def close(self) -> None: ...
