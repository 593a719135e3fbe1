"""The team mailbox's inbox over Microsoft Graph: a delta query with the delta link as watermark.

``/users/{mailbox}/mailFolders/inbox/messages/delta`` pages with ``@odata.nextLink`` and ends a
round with ``@odata.deltaLink``, which the next poll starts from, so each message is seen once;
a message moved out shows up as an ``@removed`` row and is ignored; an expired link (HTTP 410)
starts a new round (returns and bounces are recorded once per Message-ID, nothing counts twice).

Graph has no item class on a message, so the delta asks for the MAPI message class
(PidTagMessageClass, ``String 0x001A``) as an extended property: an NDR's is
``REPORT.IPM.Note.NDR``. A report from postmaster or Exchange's own system mailbox counts too.
Same app registration as the Graph transport (``Mail.ReadWrite`` to move messages).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import re
import threading
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from workers.errors import AuthenticationError, ServiceUnavailableError, ThrottledError
from workers.mail.graph import GraphConfig, retry_after_seconds
from workers.returns.inbox import InboxAttachment, InboxMessage, message_ids

log = logging.getLogger(__name__)
MESSAGE_CLASS = "String 0x001A"  # PidTagMessageClass [MS-OXPROPS] 2.780
REPORT_CLASS = "REPORT.IPM.NOTE"
# Exchange Online sends its NDRs from this system mailbox; others from postmaster/MAILER-DAEMON.
SYSTEM_SENDERS = ("postmaster", "mailer-daemon",
                  "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e")
SELECT = "id,subject,body,from,internetMessageId,receivedDateTime,sentDateTime,hasAttachments"
_TAG = re.compile(r"<[^>]+>")


class GraphInbox:
    name = "graph"

    def __init__(self, config: GraphConfig, processed_folder: str = "Processed",
                 state: str | None = None) -> None:
        self.config = config
        self.processed_folder = processed_folder
        self.state = state
        self._app: Any = None
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=config.timeout_seconds, verify=_verify(config))
        self._user = f"{config.base_url.rstrip('/')}/users/{quote(config.mailbox)}"
        origin = urlsplit(config.base_url)
        self._scope = f"{origin.scheme}://{origin.netloc}/.default"
        self._folder_id: str | None = None

    # -- the InboxReader interface -----------------------------------------------------------

    def fetch(self) -> list[InboxMessage]:
        rows = self._delta_round(self.state)
        return [self._message(row) for row in rows
                if "@removed" not in row and row.get("id")]

    def move_to_processed(self, message: InboxMessage) -> None:
        folder = self._processed_folder_id()
        self._call("POST", f"{self._user}/messages/{quote(message.id)}/move",
                   json={"destinationId": folder})

    def close(self) -> None:
        self._http.close()

    # -- delta -------------------------------------------------------------------------------

    def _delta_round(self, link: str | None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        url, params = link, None
        if url is None:
            url = f"{self._user}/mailFolders/inbox/messages/delta"
            params = {"$select": SELECT,
                      "$expand": f"singleValueExtendedProperties($filter=id eq '{MESSAGE_CLASS}')"}
        headers = {"Prefer": 'outlook.body-content-type="text", odata.maxpagesize=50'}
        while True:
            response = self._call("GET", url, params=params, headers=headers, gone_ok=True)
            if response.status_code == 410:  # the delta link expired: a new round
                log.warning("Graph inbox: the delta link expired; starting a new round")
                return self._delta_round(None)
            page = response.json()
            rows += page.get("value", [])
            if "@odata.nextLink" in page:
                url, params = str(page["@odata.nextLink"]), None
                continue
            self.state = str(page["@odata.deltaLink"])
            return rows

    def _message(self, row: dict[str, Any]) -> InboxMessage:
        body = row.get("body") or {}
        text = str(body.get("content") or "")
        if str(body.get("contentType", "")).lower() == "html":
            text = html.unescape(_TAG.sub(" ", text))  # ``&lt;iro.…&gt;`` is our Message-ID
        sender = str(((row.get("from") or {}).get("emailAddress") or {}).get("address") or "")
        local, _, domain = sender.rpartition("@")
        message_class = next((str(p.get("value") or "") for p in
                              row.get("singleValueExtendedProperties") or []
                              if _is_message_class(str(p.get("id", "")))), "")
        # Only a non-delivery report: delivery and read receipts (.DR, .IPNRN) are no bounce.
        is_report = _is_ndr(message_class) or local.lower() in SYSTEM_SENDERS
        attachments = self._attachments(str(row["id"])) if row.get("hasAttachments") else ()
        # only a message with a file can be the IRO's reply with the record: its headers then
        replies_to = self._replies_to(str(row["id"])) if attachments else ()
        return InboxMessage(
            id=str(row["id"]),
            message_id=str(row.get("internetMessageId") or f"<graph.{row['id']}>"),
            subject=str(row.get("subject") or ""),
            body=text,
            received_at=_when(row.get("receivedDateTime")),
            is_report=is_report,
            is_receipt=not is_report and message_class.upper().startswith(REPORT_CLASS),
            attachments=attachments,
            sender_domain=domain.lower(),
            sender=sender.strip().lower() if "@" in sender else "",
            sent_at=_when(row.get("sentDateTime")),
            replies_to=replies_to,
        )

    def _replies_to(self, message_id: str) -> tuple[str, ...]:
        """In-Reply-To and References, from the message's Internet headers (Graph has no
        property of its own for them, and a delta query cannot select the headers)."""
        url = f"{self._user}/messages/{quote(message_id)}"
        found = self._call("GET", url, params={"$select": "internetMessageHeaders"}).json()
        headers = {str(h.get("name", "")).lower(): str(h.get("value") or "")
                   for h in found.get("internetMessageHeaders") or []}
        return message_ids(headers.get("in-reply-to"), headers.get("references"))

    def _attachments(self, message_id: str) -> tuple[InboxAttachment, ...]:
        url = f"{self._user}/messages/{quote(message_id)}/attachments"
        found = self._call("GET", url).json().get("value", [])
        return tuple(
            InboxAttachment(str(a.get("name") or "attachment"),
                            base64.b64decode(a.get("contentBytes") or ""),
                            str(a.get("contentType") or "application/octet-stream"))
            for a in found if a.get("@odata.type") == "#microsoft.graph.fileAttachment"
        )

    def _processed_folder_id(self) -> str:
        if self._folder_id is None:
            url = f"{self._user}/mailFolders/inbox/childFolders"
            name = self.processed_folder.replace("'", "''")  # OData string literal
            params = {"$filter": f"displayName eq '{name}'"}
            found = self._call("GET", url, params=params).json().get("value", [])
            if not found:
                created = self._call("POST", url, json={"displayName": self.processed_folder},
                                     gone_ok=True)
                if created.status_code == 409:  # another poller made it a moment ago
                    found = self._call("GET", url, params=params).json().get("value", [])
                else:
                    found = [created.json()]
            self._folder_id = str(found[0]["id"])
        return self._folder_id

    # -- HTTP and the token ------------------------------------------------------------------

    def _call(self, method: str, url: str, *, gone_ok: bool = False,
              **kw: Any) -> httpx.Response:
        headers = {**kw.pop("headers", {}), "Authorization": f"Bearer {self._token()}"}
        try:
            response = self._http.request(method, url, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(
                f"cannot read the inbox over Graph at {self.config.base_url}: "
                f"{type(exc).__name__}") from exc
        if response.status_code < 400 or (gone_ok and response.status_code in (409, 410)):
            return response
        raise _translate(response, self.config.mailbox)

    def _token(self) -> str:
        import msal  # heavy; only when Graph is the chosen transport

        cfg = self.config
        try:
            with self._lock:
                if self._app is None:
                    self._app = msal.ConfidentialClientApplication(
                        cfg.client_id, client_credential=cfg.client_secret,
                        authority=f"{cfg.authority_host.rstrip('/')}/{cfg.tenant_id}",
                        instance_discovery=False, http_client=self._http)
            result = self._app.acquire_token_for_client(scopes=[self._scope])  # cached by msal
        except ValueError as exc:
            raise AuthenticationError(
                "Graph inbox: the tenant was not recognised; check graph.tenant_id and "
                "graph.authority_host") from exc
        except Exception as exc:
            raise ServiceUnavailableError(
                f"Graph inbox: the token endpoint could not be reached ({type(exc).__name__})"
            ) from exc
        if "access_token" not in result:
            raise AuthenticationError(
                f"Graph inbox as {cfg.mailbox}: the token request was refused "
                f"({result.get('error', 'unknown')}); check graph.client_id and "
                "IRO_GRAPH_CLIENT_SECRET")
        return str(result["access_token"])


def _translate(response: httpx.Response, mailbox: str) -> Exception:
    """Only the error's code is repeated: Graph's message text may quote a subject or address."""
    try:
        code = str(response.json().get("error", {}).get("code", ""))
    except ValueError:
        code = ""
    status = response.status_code
    where = f"Graph inbox of {mailbox}: HTTP {status} {code}".rstrip()
    if status in (401, 403) or code in ("ErrorInvalidUser", "ErrorAccessDenied"):
        return AuthenticationError(
            f"{where}: grant the app Mail.ReadWrite on this mailbox (and check the application "
            "access policy and IRO_GRAPH_CLIENT_SECRET)")
    if status == 429:  # the mailbox's throttle: every worker keeps it (workers.mail.backoff)
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        return ThrottledError(f"{where}: throttled, asked for {wait:g} s of quiet",
                              retry_after=wait)
    if status >= 500:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        return ServiceUnavailableError(f"{where}: busy; the next poll tries again "
                                       f"(asked to wait {wait:g}s)")
    return ServiceUnavailableError(f"{where}: the request was refused")


def _is_ndr(message_class: str) -> bool:
    upper = message_class.upper()
    return upper.startswith(REPORT_CLASS) and ".NDR" in upper


def _is_message_class(prop_id: str) -> bool:
    kind, _, tag = prop_id.partition(" ")
    return kind.lower() == "string" and tag.lower() in ("0x1a", "0x001a")


def _when(value: Any) -> dt.datetime | None:
    if not value:
        return None
    when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _verify(config: GraphConfig) -> Any:
    if config.ca_bundle:
        import ssl

        return ssl.create_default_context(cafile=config.ca_bundle)
    return True
