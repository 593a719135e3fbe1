"""The team mailbox's inbox over EWS (exchangelib): ``SyncFolderItems`` from a saved sync state.

The sync state is the watermark: each poll sees only what changed since the last one, and a moved
message (to the processed folder) shows up as a delete, which is ignored. Configured like the EWS
transport (explicit endpoint, auth and version; FailFast); errors become ``workers.errors``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from workers.errors import AuthenticationError, ServiceUnavailableError, ThrottledError
from workers.mail.ews import EwsConfig, build_account
from workers.returns.inbox import InboxAttachment, InboxMessage, message_ids

log = logging.getLogger(__name__)
_TAG = re.compile(r"<[^>]+>")
REPORT_CLASS = "REPORT.IPM.NOTE"  # REPORT.IPM.Note.NDR, .DR, .NDR.* …


class EwsInbox:
    name = "ews"

    def __init__(self, config: EwsConfig, processed_folder: str = "Processed",
                 state: str | None = None) -> None:
        self.config = config
        self.processed_folder = processed_folder
        self.state = state
        self._account: Any = None
        self._items: dict[str, Any] = {}

    @property
    def account(self) -> Any:
        if self._account is None:
            self._account = build_account(self.config)
        return self._account

    def fetch(self) -> list[InboxMessage]:
        from exchangelib.items import Message

        try:
            folder = self.account.inbox
            changes = list(folder.sync_items(sync_state=self.state))
            out = []
            for change, item in changes:
                if change not in ("create", "update") or not isinstance(item, Message):
                    continue
                self._items[item.id] = item
                out.append(self._message(item))
            self.state = folder.item_sync_state
            return out
        except Exception as exc:
            raise _translate(exc, self.config) from exc

    def _message(self, item: Any) -> InboxMessage:
        from exchangelib import FileAttachment

        body = str(item.text_body or item.body or "")
        if body.lstrip().startswith("<"):
            body = _TAG.sub(" ", body)
        attachments = tuple(
            InboxAttachment(a.name or "attachment", a.content or b"",
                            a.content_type or "application/octet-stream")
            for a in (item.attachments or []) if isinstance(a, FileAttachment)
        )
        return InboxMessage(
            id=item.id,
            message_id=item.message_id or f"<ews.{item.id}>",
            subject=item.subject or "",
            body=body,
            received_at=(dt.datetime.fromtimestamp(item.datetime_received.timestamp(), dt.UTC)
                         if item.datetime_received else None),
            is_report=_report_kind(item.item_class) == "ndr",
            is_receipt=_report_kind(item.item_class) == "receipt",
            attachments=attachments,
            sender_domain=_address(item.sender or item.author).rpartition("@")[2],
            sender=_address(item.sender or item.author),
            sent_at=item.datetime_sent,
            replies_to=message_ids(item.in_reply_to, item.references),
        )

    def move_to_processed(self, message: InboxMessage) -> None:
        item = self._items.pop(message.id, None)
        if item is None:
            return
        try:
            item.move(self.account.inbox / self.processed_folder)
        except Exception as exc:
            raise _translate(exc, self.config) from exc

    def close(self) -> None:
        if self._account is not None:
            self._account.protocol.close()


def _address(mailbox: Any) -> str:
    address = str(getattr(mailbox, "email_address", "") or "").strip().lower()
    return address if "@" in address else ""


def _translate(exc: BaseException, cfg: EwsConfig) -> Exception:
    from exchangelib import errors as ews_errors

    if isinstance(exc, ews_errors.UnauthorizedError):
        return AuthenticationError(
            f"EWS refused the credentials for {cfg.mailbox}'s inbox; check IRO_EWS_PASSWORD")
    if isinstance(exc, ews_errors.ErrorServerBusy):  # the account's back-off, in seconds
        wait = float(exc.back_off or 30)
        return ThrottledError(f"the inbox over EWS: the server is busy and asked for {wait:g} s "
                              "of quiet", retry_after=wait)
    if isinstance(exc, ews_errors.ErrorFolderNotFound):
        return ServiceUnavailableError(
            "the processed folder does not exist under the inbox; create it or set "
            "mailbox.processed_folder")
    return ServiceUnavailableError(
        f"cannot read the inbox over EWS at {cfg.endpoint}: {type(exc).__name__}")


def _report_kind(item_class: str | None) -> str | None:
    """``REPORT.IPM.Note.NDR`` is a bounce; ``.DR``, ``.IPNRN``, ``.IPNNRN`` are receipts."""
    upper = str(item_class or "").upper()
    if not upper.startswith(REPORT_CLASS):
        return None
    return "ndr" if ".NDR" in upper else "receipt"
