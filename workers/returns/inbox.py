"""What an inbox reader hands over, and the small interface every reader implements.

Readers (EWS ``sync_items``, Graph delta) keep their own watermark so each message is seen once,
and translate their library's errors into ``workers.errors`` at the boundary.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Protocol

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def message_ids(*headers: str | None) -> tuple[str, ...]:
    """The ``<…>`` Message-IDs in In-Reply-To and References headers, lowercased, once each,
    in order (RFC 5322 §3.6.4; a reader passes whatever its server gives)."""
    found: list[str] = []
    for header in headers:
        found += [m.lower() for m in _MESSAGE_ID.findall(header or "") if m.lower() not in found]
    return tuple(found)


@dataclass(frozen=True)
class InboxAttachment:
    # out of the repr: a file name may carry a child's name, and the content is the form
    filename: str = field(repr=False)
    content: bytes = field(repr=False)
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class InboxMessage:
    id: str  # the reader's id for this message (to move it)
    message_id: str  # the Internet Message-ID (a return is recorded once per message)
    # out of the repr (no traceback prints them): a subject or a body that quotes "On …, Name
    # <address> wrote:" carries personal data
    subject: str = field(repr=False)
    body: str = field(repr=False)
    received_at: dt.datetime | None  # None: the server gave none; the poll's time is used
    is_report: bool = False  # a delivery status notification (NDR), never a return
    # a delivery or read receipt: neither a bounce nor a return, though it may quote the code
    is_receipt: bool = False
    attachments: tuple[InboxAttachment, ...] = field(default=(), repr=False)
    sender_domain: str = ""  # the sender's domain only (no name, no local part)
    sent_at: dt.datetime | None = None  # the Date header, where the reader has it
    # the sender's address, lowercased: compared with the participant's (issue 16 §3) and kept
    # on the return; never logged (kept out of the repr, so no traceback prints it either)
    sender: str = field(default="", repr=False)
    # the Message-IDs this message answers (In-Reply-To, then References), lowercased with their
    # angle brackets: compared with the draft record's Message-ID to find the IRO's reply with
    # the completed record; never logged or stored
    replies_to: tuple[str, ...] = field(default=(), repr=False)


class InboxReader(Protocol):
    name: str
    state: str | None  # the watermark (EWS sync state, Graph delta link); saved by the poll

    def fetch(self) -> list[InboxMessage]:
        """Messages that arrived since the last call (the reader keeps the watermark)."""
        ...

    def move_to_processed(self, message: InboxMessage) -> None: ...

    def close(self) -> None: ...
