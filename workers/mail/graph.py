"""Microsoft Graph transport for Exchange Online (where EWS is blocked from October 2026).

msal client credentials (the token is cached by msal until it expires) and httpx. Small messages
go in one ``sendMail``; when the attachments exceed 3 MB (Graph's limit for a request body is
4 MB) a draft is created, each large attachment is uploaded through ``createUploadSession`` in
chunks, and the draft is sent. Every message carries a single-value extended property with its
dispatch key — the same property the EWS transport uses — and ``find_sent`` looks it up in Sent
Items. ``sendMail`` returns no id either, so ``send`` looks the message up afterwards.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from workers.errors import (
    AuthenticationError,
    DeliveryError,
    PermanentDeliveryError,
    ThrottledError,
    TransientDeliveryError,
)
from workers.mail.message import Attachment, OutgoingMessage, loggable_key
from workers.mail.mime import DISPATCH_HEADER, message_id_for

log = logging.getLogger(__name__)

PROPERTY_ID = "String {5d0f6e4c-3b1a-4f3e-9a59-6a1b2c3d4e5f} Name IroDispatchKey"  # as ews.py
INLINE_LIMIT = 3 * 1024 * 1024  # Graph: attachments under 3 MB may travel inside the request
CHUNK = 320 * 1024 * 10  # upload chunks must be multiples of 320 KiB
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class GraphConfig:
    tenant_id: str
    client_id: str
    client_secret: str  # IRO_GRAPH_CLIENT_SECRET only
    mailbox: str
    authority_host: str = "https://login.microsoftonline.com"
    base_url: str = "https://graph.microsoft.com/v1.0"
    timeout_seconds: float = 30.0
    display_name: str = ""
    reply_to: str | None = None
    ca_bundle: str | None = None  # a private CA (tests, TLS-inspecting proxies); None: system


class GraphTransport:
    name = "graph"

    def __init__(self, config: GraphConfig) -> None:
        self.config = config
        self.mailbox = config.mailbox
        self._app: Any = None
        self._lock = threading.Lock()
        verify: Any = config.ca_bundle or True
        self._http = httpx.Client(timeout=config.timeout_seconds, verify=_ssl(verify))
        self._user = f"{config.base_url.rstrip('/')}/users/{quote(config.mailbox)}"
        origin = urlsplit(config.base_url)
        self._scope = f"{origin.scheme}://{origin.netloc}/.default"

    # -- token -------------------------------------------------------------------------------

    def _token(self, key: str) -> str:
        import msal  # heavy; only when Graph is the chosen transport

        cfg = self.config
        try:
            with self._lock:
                if self._app is None:
                    # The authority comes from our own settings, so Microsoft's instance
                    # discovery adds nothing; the tenant's OpenID document is still fetched.
                    self._app = msal.ConfidentialClientApplication(
                        cfg.client_id,
                        client_credential=cfg.client_secret,
                        authority=f"{cfg.authority_host.rstrip('/')}/{cfg.tenant_id}",
                        instance_discovery=False,
                        # httpx for msal too: one TLS setup for both, and requests would let
                        # REQUESTS_CA_BUNDLE override a private CA.
                        http_client=self._http,
                    )
            result = self._app.acquire_token_for_client(scopes=[self._scope])  # cached by msal
        except ValueError as exc:  # msal: the tenant's discovery document was refused
            raise AuthenticationError(
                f"dispatch {key} via Graph as {cfg.mailbox}: the tenant was not recognised; "
                "check graph.tenant_id and graph.authority_host, then resume sending"
            ) from exc
        except Exception as exc:  # requests' connection errors and timeouts
            raise TransientDeliveryError(
                f"dispatch {key} via Graph: the token endpoint could not be reached "
                f"({type(exc).__name__}); will retry"
            ) from exc
        if "access_token" not in result:
            error = str(result.get("error", "unknown"))
            if error in ("invalid_client", "unauthorized_client", "invalid_grant"):
                raise AuthenticationError(
                    f"dispatch {key} via Graph as {cfg.mailbox}: the token request was refused "
                    f"({error}); check graph.client_id and IRO_GRAPH_CLIENT_SECRET, "
                    "then resume sending"
                )
            raise TransientDeliveryError(
                f"dispatch {key} via Graph: token request failed ({error})"
            )
        return str(result["access_token"])

    def _call(self, key: str, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token(key)}"}
        try:
            response = self._http.request(method, url, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise TransientDeliveryError(
                f"dispatch {key} via Graph as {self.mailbox}: {type(exc).__name__}; will retry"
            ) from exc
        if response.status_code >= 400:
            raise classify_graph_response(response, key, self.mailbox)
        return response

    # -- the Transport interface -----------------------------------------------------------

    def send(self, message: OutgoingMessage) -> str:
        key = loggable_key(message.dispatch_key)  # names the dispatch in errors, nothing else
        payload = self._message_json(message)
        big = [a for a in message.attachments if len(a.content) >= INLINE_LIMIT]
        if sum(len(a.content) for a in message.attachments) < INLINE_LIMIT:
            payload["attachments"] = [_attachment_json(a) for a in message.attachments]
            self._call(
                key,
                "POST",
                f"{self._user}/sendMail",
                json={"message": payload, "saveToSentItems": True},
            )
        else:
            # A draft holds the child's pack until it is sent: never leave one behind. Drafts an
            # earlier attempt left (a worker killed mid-upload) go first, and this one goes if
            # any step before the send fails (a 429 mid-upload), so retries do not pile them up.
            self._delete_drafts(key, message.dispatch_key)
            draft = self._call(key, "POST", f"{self._user}/messages", json=payload).json()
            draft_url = f"{self._user}/messages/{draft['id']}"
            try:
                for att in message.attachments:
                    if att in big:
                        self._upload(key, draft_url, att)
                    else:
                        self._call(key, "POST", f"{draft_url}/attachments",
                                   json=_attachment_json(att))
                self._call(key, "POST", f"{draft_url}/send")
            except DeliveryError:
                self._delete_draft(key, draft_url)  # once sent, the draft id is gone: a 404
                raise
        sent = message.dispatch_key
        try:
            found = self.find_sent(sent)
        except DeliveryError as exc:
            # It went: a 429 or a dropped connection on the look-up afterwards must not read as
            # a failed send, or the retry would send the letter again.
            log.warning("dispatch %s sent via Graph; looking it up in Sent Items failed (%s)",
                        key, type(exc).__name__)
            found = None
        return found or message_id_for(sent, self.mailbox)

    def _upload(self, key: str, draft_url: str, att: Attachment) -> None:
        size = len(att.content)
        item = {
            "attachmentType": "file",
            "name": att.filename,
            "size": size,
            "contentType": att.content_type,
        }
        session = self._call(
            key,
            "POST",
            f"{draft_url}/attachments/createUploadSession",
            json={"AttachmentItem": item},
        ).json()
        for start in range(0, size, CHUNK):
            chunk = att.content[start : start + CHUNK]
            headers = {
                "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{size}",
                "Content-Type": "application/octet-stream",
            }
            try:
                # The upload URL carries its own authorisation: sending the bearer token fails.
                response = self._http.put(session["uploadUrl"], content=chunk, headers=headers)
            except httpx.HTTPError as exc:
                raise TransientDeliveryError(
                    f"dispatch {key} via Graph: upload failed ({type(exc).__name__}); will retry"
                ) from exc
            if response.status_code >= 400:
                raise classify_graph_response(response, key, self.mailbox)

    def _delete_draft(self, key: str, draft_url: str) -> None:
        try:
            self._call(key, "DELETE", draft_url)
        except DeliveryError as exc:  # best effort: the next attempt looks for it again
            log.warning("dispatch %s: could not delete its unsent Graph draft (%s)", key,
                        type(exc).__name__)

    def _delete_drafts(self, key: str, dispatch_key: str) -> None:
        url = f"{self._user}/mailFolders/Drafts/messages"
        reply = self._call(key, "GET", url, params=self._by_key(dispatch_key, top=10)).json()
        for draft in reply.get("value", []):
            self._delete_draft(key, f"{self._user}/messages/{draft['id']}")

    @staticmethod
    def _by_key(dispatch_key: str, top: int = 1) -> dict[str, str]:
        value = dispatch_key.replace("'", "''")  # OData string literal
        return {
            "$filter": (
                f"singleValueExtendedProperties/Any(ep: ep/id eq '{PROPERTY_ID}' "
                f"and ep/value eq '{value}')"
            ),
            "$select": "id,internetMessageId",
            "$top": str(top),
        }

    def find_sent(self, dispatch_key: str) -> str | None:
        url = f"{self._user}/mailFolders/SentItems/messages"
        reply = self._call(loggable_key(dispatch_key), "GET", url,
                           params=self._by_key(dispatch_key)).json()
        found = reply.get("value", [])
        return str(found[0]["id"]) if found else None

    def close(self) -> None:
        self._http.close()

    def _message_json(self, message: OutgoingMessage) -> dict[str, Any]:
        reply_to = message.reply_to or self.config.reply_to
        html = message.body_html is not None
        return {
            "subject": message.subject,
            "body": {
                "contentType": "HTML" if html else "Text",
                "content": message.body_html if html else message.body_text,
            },
            "toRecipients": [_recipient(message.to)],
            "ccRecipients": [_recipient(a) for a in message.cc],
            "replyTo": [_recipient(reply_to)] if reply_to else [],
            "internetMessageId": message_id_for(message.dispatch_key, self.mailbox),
            "internetMessageHeaders": [{"name": DISPATCH_HEADER, "value": message.dispatch_key}],
            "singleValueExtendedProperties": [{"id": PROPERTY_ID, "value": message.dispatch_key}],
        }


def _ssl(verify: Any) -> Any:
    if isinstance(verify, str):
        import ssl

        return ssl.create_default_context(cafile=verify)
    return verify


def _recipient(address: str) -> dict[str, Any]:
    return {"emailAddress": {"address": address}}


def _attachment_json(att: Attachment) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": att.filename,
        "contentType": att.content_type,
        "contentBytes": base64.b64encode(att.content).decode("ascii"),
    }


def retry_after_seconds(value: str | None) -> float:
    """Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())


def classify_graph_response(response: httpx.Response, key: str, mailbox: str) -> DeliveryError:
    """Map a Graph error response; the error's own message may quote addresses, so only its
    code is repeated."""
    status = response.status_code
    try:
        code = str(response.json().get("error", {}).get("code", ""))
    except ValueError:
        code = ""
    where = f"dispatch {key} via Graph as {mailbox}: HTTP {status} {code}".rstrip()
    if status == 429 or (status in (503, 504) and "Retry-After" in response.headers):
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        return ThrottledError(f"{where}: throttled; retry after {wait:g}s", retry_after=wait)
    if status == 401:
        return AuthenticationError(
            f"{where}: the access token was refused; check the app registration and "
            "IRO_GRAPH_CLIENT_SECRET, then resume sending"
        )
    if code == "ErrorSendAsDenied":
        return PermanentDeliveryError(
            f"{where}: the app may not send as this mailbox; grant Send As"
        )
    if status == 403 or code in ("ErrorInvalidUser", "MailboxNotEnabledForRESTAPI"):
        return AuthenticationError(
            f"{where}: the app may not use this mailbox; grant Mail.Send (and check the "
            "application access policy and IRO_MAILBOX_ADDRESS), then resume sending"
        )
    if status == 413 or code in ("ErrorMessageSizeExceeded", "RequestBodyTooLarge"):
        return PermanentDeliveryError(
            f"{where}: the message is too large; reduce the attachments or send the pack by post"
        )
    if code in ("ErrorInvalidRecipients", "ErrorInvalidSmtpAddress"):
        return PermanentDeliveryError(
            f"{where}: the recipient address was refused; correct it in the case record"
        )
    if status >= 500 or status == 408:
        return TransientDeliveryError(f"{where}: server error; will retry")
    return PermanentDeliveryError(f"{where}: the request was refused")
