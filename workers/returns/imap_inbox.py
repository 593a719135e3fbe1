"""The team mailbox's inbox over IMAP (imaplib), for SMTP set-ups: a UID watermark.

The watermark is ``UIDVALIDITY:last UID`` (RFC 3501 §2.3.1.1: UIDs only grow while UIDVALIDITY
stays the same). If the server changes UIDVALIDITY every message is read again; returns and
bounces are recorded once per Message-ID, so only the unmatched ones are listed again.
Messages are read with ``BODY.PEEK[]`` so one left for a person stays unread. A bounce is a
``multipart/report; report-type=delivery-status`` (RFC 3464); its text and the returned headers
are kept as the body so our Message-ID (``<iro.…>``) can be found. Matched messages go to the
processed folder with UID MOVE (RFC 6851), or COPY + ``\\Deleted`` + UID EXPUNGE (RFC 4315).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.policy
import html
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any, Literal

from workers.errors import AuthenticationError, ServiceUnavailableError
from workers.returns.inbox import InboxAttachment, InboxMessage, message_ids

log = logging.getLogger(__name__)
_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ImapConfig:
    host: str
    username: str
    password: str  # IRO_IMAP_PASSWORD only
    port: int = 993
    security: Literal["tls", "starttls", "none"] = "tls"
    mailbox: str = "INBOX"
    timeout_seconds: float = 30.0
    ca_bundle: str | None = None  # a private CA; None: the system's


class ImapInbox:
    name = "imap"

    def __init__(self, config: ImapConfig, processed_folder: str = "Processed",
                 state: str | None = None) -> None:
        self.config = config
        self.processed_folder = processed_folder
        self.state = state
        self._imap: imaplib.IMAP4 | None = None
        self._validity = ""
        self._folder_ready = False

    # -- the InboxReader interface -----------------------------------------------------------

    def fetch(self) -> list[InboxMessage]:
        imap = self._session()
        validity, _, last_text = (self.state or "").partition(":")
        last = int(last_text) if validity == self._validity and last_text.isdigit() else 0
        if self.state and validity != self._validity:
            log.warning("IMAP inbox: UIDVALIDITY changed (%s → %s); reading it all again",
                        validity, self._validity)
        data = self._ok(imap.uid("SEARCH", f"UID {last + 1}:*"), "UID SEARCH")
        uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last)
        messages = self._fetch(imap, uids) if uids else []
        self.state = f"{self._validity}:{max([last, *uids])}"
        return messages

    def move_to_processed(self, message: InboxMessage) -> None:
        imap = self._session()
        folder = _quote(self.processed_folder)
        self._ensure_folder(imap, folder)
        if "MOVE" in imap.capabilities:
            self._ok(imap.uid("MOVE", message.id, folder), "UID MOVE")
            return
        self._ok(imap.uid("COPY", message.id, folder), "UID COPY")
        self._ok(imap.uid("STORE", message.id, "+FLAGS.SILENT", r"(\Deleted)"), "UID STORE")
        if "UIDPLUS" in imap.capabilities:
            self._ok(imap.uid("EXPUNGE", message.id), "UID EXPUNGE")
        else:  # without UIDPLUS a plain EXPUNGE also removes what a person flagged \Deleted
            self._ok(imap.expunge(), "EXPUNGE")

    def close(self) -> None:
        if self._imap is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self._imap.logout()
            self._imap = None

    # -- IMAP --------------------------------------------------------------------------------

    def _session(self) -> imaplib.IMAP4:
        if self._imap is not None:
            return self._imap
        cfg = self.config
        context = ssl.create_default_context(cafile=cfg.ca_bundle)
        try:
            if cfg.security == "tls":
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    cfg.host, cfg.port, ssl_context=context, timeout=cfg.timeout_seconds)
            else:
                imap = imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
                if cfg.security == "starttls":
                    imap.starttls(ssl_context=context)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ServiceUnavailableError(
                f"cannot reach the IMAP server {cfg.host}:{cfg.port} ({type(exc).__name__}); "
                "check imap.host, imap.port and imap.security") from exc
        try:
            imap.login(cfg.username, cfg.password)
        except imaplib.IMAP4.error as exc:  # the server's text is not repeated
            raise AuthenticationError(
                f"the IMAP server {cfg.host} refused the login for {cfg.username}; "
                "check imap.username and IRO_IMAP_PASSWORD") from exc
        self._imap = imap
        self._ok(imap.select(_quote(cfg.mailbox)), f"SELECT {cfg.mailbox}")
        self._validity = (imap.response("UIDVALIDITY")[1][0] or b"").decode()
        return imap

    def _ok(self, reply: tuple[str, list[Any]], what: str) -> list[Any]:
        typ, data = reply
        if typ != "OK":
            raise ServiceUnavailableError(
                f"the IMAP server {self.config.host} refused {what} ({typ})")
        return data

    def _ensure_folder(self, imap: imaplib.IMAP4, folder: str) -> None:
        if self._folder_ready:
            return
        listed = self._ok(imap.list('""', folder), "LIST")
        if not any(listed):
            typ, data = imap.create(folder)
            if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(d or b"" for d in data):
                raise ServiceUnavailableError(
                    f"the IMAP server {self.config.host} would not create the processed folder; "
                    "create it or set mailbox.processed_folder")
        self._folder_ready = True

    def _fetch(self, imap: imaplib.IMAP4, uids: list[int]) -> list[InboxMessage]:
        wanted = ",".join(str(u) for u in uids)
        data = self._ok(imap.uid("FETCH", wanted, "(UID INTERNALDATE BODY.PEEK[])"), "UID FETCH")
        out = []
        for item in data:
            if not isinstance(item, tuple):
                continue  # the closing ")" of each response
            head, raw = item
            uid = _UID.search(head)
            if uid is None:
                continue
            date = _INTERNALDATE.search(head)
            received = _internaldate(date.group(1).decode()) if date else None
            out.append(parse(raw, uid.group(1).decode(), received, self._validity))
        return out


def parse(raw: bytes, uid: str, received: dt.datetime | None, validity: str = "") -> InboxMessage:
    """An RFC 5322 message as the poll sees it (pure)."""
    msg = BytesParser(policy=email.policy.default, _class=EmailMessage).parsebytes(raw)
    report_type = (str(msg.get_param("report-type", "")).lower()
                   if msg.get_content_type() == "multipart/report" else "")
    report = report_type == "delivery-status" and _failed(msg)
    # a read receipt (RFC 8098) or a "delivered"/"delayed" status: no bounce, no return
    receipt = report_type == "disposition-notification" or (
        report_type == "delivery-status" and not report)
    sender = parseaddr(str(msg.get("From", "")))[1]
    return InboxMessage(
        id=uid,
        message_id=str(msg.get("Message-ID", "")).strip() or f"<imap.{validity}.{uid}>",
        subject=str(msg.get("Subject", "")),
        body=_report_text(msg) if report else _body(msg),
        received_at=received or _date(msg),
        is_report=report,
        is_receipt=receipt,
        attachments=() if report else _attachments(msg),
        sender_domain=sender.rpartition("@")[2].lower(),
        sender=sender.strip().lower() if "@" in sender else "",
        sent_at=_date(msg),
        replies_to=message_ids(str(msg.get("In-Reply-To", "")), str(msg.get("References", ""))),
    )


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = str(part.get_content())
    if part.get_content_subtype() == "html":
        text = html.unescape(_TAG.sub(" ", text))
    return text


def _report_text(msg: EmailMessage) -> str:
    """Every text part, the delivery status, and the returned message's headers."""
    out: list[str] = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind.startswith("text/"):
            out.append(str(part.get_content()))
        elif kind == "message/delivery-status":
            out += [str(block) for block in part.get_payload()]
        elif kind == "message/rfc822":
            out += [f"{k}: {v}" for inner in part.get_payload()
                    if isinstance(inner, Message) for k, v in inner.items()]
    return "\n".join(out)


def _failed(msg: EmailMessage) -> bool:
    """A DSN also reports success or delay (RFC 3464 §2.3.3): only ``Action: failed`` bounced."""
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            return any(str(b.get("Action", "")).strip().lower() == "failed"
                       for b in blocks if isinstance(b, Message))
    return True  # no machine-readable status: a report sent as a bounce counts as one


def _attachments(msg: EmailMessage) -> tuple[InboxAttachment, ...]:
    found = []
    for part in msg.iter_attachments():
        content = part.get_payload(decode=True)
        found.append(InboxAttachment(part.get_filename() or "attachment",
                                     content if isinstance(content, bytes) else b"",
                                     part.get_content_type()))
    return tuple(found)


def _date(msg: EmailMessage) -> dt.datetime | None:
    try:
        when = parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _internaldate(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value.strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def _quote(name: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
