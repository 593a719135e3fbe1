"""A local HTTPS endpoint playing both the Microsoft identity platform and Microsoft Graph.

msal insists on an https authority and fetches the tenant's OpenID configuration, so the server
speaks TLS with a throw-away CA (``server.ca_path``) and serves
``/{tenant}/v2.0/.well-known/openid-configuration`` and ``/{tenant}/oauth2/v2.0/token``.
Graph: ``/v1.0/users/{mailbox}/sendMail``, drafts (``/messages``), attachments,
``createUploadSession`` with its upload PUTs, ``/send``, and Sent Items filtered on
``singleValueExtendedProperties``; an inbox (``deliver``; delta, attachments, move, child folders:
tests/fakes/graph_mailbox.py). Faults: ``fail_next(429, retry_after=7)``, ``fail_next(401)``.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from fakes.graph_mailbox import GraphInboxMessage, GraphMailbox

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
CLIENT_SECRET = "graph-s3cret"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography comes with msal)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # OpenSSL checks it against the machine's real clock, the code under test may run on
        # another day (scripts/shifted-suite): valid on any day the suite could run
        .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2099, 12, 31, tzinfo=dt.UTC))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "graph-cert.pem", directory / "graph-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class GraphFault:
    status: int
    retry_after: float | None = None
    code: str = ""
    path_contains: str = ""
    method: str = ""  # only requests with this method ("" for any)


@dataclass
class Upload:
    message_id: str
    name: str
    content_type: str
    size: int
    data: bytearray = field(default_factory=bytearray)


class FakeGraphServer:
    def __init__(
        self, directory: Path, mailbox: str = "iro.service@council.example.gov.uk"
    ) -> None:
        self.mailbox = mailbox
        self.ca_path, key_path = make_certificate(directory)
        self.token_requests: list[dict[str, list[str]]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.arrivals: list[tuple[float, str]] = []  # (time.monotonic(), path), the server's clock
        self.throttled_at: list[tuple[float, float]] = []  # (when answered 429, Retry-After)
        self.faults: list[GraphFault] = []
        self.drafts: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []  # Graph message JSON, attachments decoded to bytes
        self.uploads: dict[str, Upload] = {}
        self.upload_puts = 0
        self.inbox = GraphMailbox()
        self._tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_path, key_path)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1.0"

    def start(self) -> FakeGraphServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def fail_next(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        code: str = "",
        path_contains: str = "",
        method: str = "",
    ) -> None:
        self.faults.append(GraphFault(status, retry_after, code, path_contains, method))

    def deliver(self, **fields: Any) -> GraphInboxMessage:
        """Put a message in the inbox, as if received (fields of GraphInboxMessage)."""
        with self._lock:
            return self.inbox.deliver(**fields)

    # -- HTTP ----------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _respond(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, headers, payload = server.handle(
                    self.command, self.path, self.headers, body
                )
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _respond  # noqa: N815 - http.server's hook names

        return Handler

    def handle(
        self, method: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        with self._lock:
            self.requests.append((method, path))
            self.arrivals.append((time.monotonic(), path))
            for i, fault in enumerate(self.faults):
                if (fault.path_contains in path and fault.method in ("", method)
                        and not path.endswith("openid-configuration")):
                    self.faults.pop(i)
                    if fault.status == 429:
                        self.throttled_at.append((time.monotonic(), fault.retry_after or 0.0))
                    extra = (
                        {}
                        if fault.retry_after is None
                        else {"Retry-After": f"{fault.retry_after:g}"}
                    )
                    err = {
                        "error": {"code": fault.code or f"HTTP{fault.status}", "message": "fault"}
                    }
                    return fault.status, extra, err
        if path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
            base = f"{self.origin}/{TENANT}"
            return (
                200,
                {},
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                },
            )
        if path == f"/{TENANT}/oauth2/v2.0/token":
            return self._token(parse_qs(body.decode()))
        if path.startswith("/upload/"):
            return self._upload_put(path.rsplit("/", 1)[1], headers, body)
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self._tokens:
            return 401, {}, {"error": {"code": "InvalidAuthenticationToken", "message": "no"}}
        prefix = f"/v1.0/users/{self.mailbox}"
        if not path.startswith(prefix):
            return 404, {}, {"error": {"code": "ErrorInvalidUser", "message": "no such mailbox"}}
        return self._graph(method, path[len(prefix) :], parse_qs(parts.query), body)

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        self.token_requests.append(form)
        if form.get("client_id") != [CLIENT_ID] or form.get("client_secret") != [CLIENT_SECRET]:
            return 401, {}, {"error": "invalid_client", "error_description": "AADSTS7000215"}
        token = f"tok-{uuid.uuid4().hex}"
        self._tokens.add(token)
        return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "access_token": token}

    def _graph(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        doc = json.loads(body) if body else {}
        if method == "POST" and path == "/sendMail":
            self._deliver(dict(doc["message"]))
            return 202, {}, None
        if method == "POST" and path == "/messages":
            draft = {**doc, "id": f"draft-{next(self._ids)}", "attachments": []}
            self.drafts[draft["id"]] = draft
            return 201, {}, {"id": draft["id"]}
        match = re.fullmatch(r"/messages/([^/]+)(/.*)?", path)
        if match and method == "DELETE" and not match.group(2):
            if self.drafts.pop(match.group(1), None) is None:
                return 404, {}, {"error": {"code": "ErrorItemNotFound", "message": "gone"}}
            return 204, {}, None
        if match and match.group(1) in self.drafts:
            draft, rest = self.drafts[match.group(1)], match.group(2) or ""
            if rest == "/attachments":
                draft["attachments"].append(doc)
                return 201, {}, {"id": f"att-{next(self._ids)}"}
            if rest == "/attachments/createUploadSession":
                item = doc["AttachmentItem"]
                session = uuid.uuid4().hex
                self.uploads[session] = Upload(
                    draft["id"], item["name"], item["contentType"], item["size"]
                )
                return (
                    201,
                    {},
                    {"uploadUrl": f"{self.origin}/upload/{session}", "nextExpectedRanges": ["0-"]},
                )
            if rest == "/send":
                self._deliver(self.drafts.pop(draft["id"]))
                return 202, {}, None
        if method == "GET" and re.fullmatch(
            r"/mailFolders(/SentItems|\('SentItems'\))/messages", path
        ):
            return 200, {}, {"value": self._find(query.get("$filter", [""])[0])}
        if method == "GET" and re.fullmatch(r"/mailFolders(/Drafts|\('Drafts'\))/messages", path):
            return 200, {}, {"value": self._find(query.get("$filter", [""])[0],
                                                 list(self.drafts.values()))}
        with self._lock:
            user = f"{self.base_url}/users/{self.mailbox}"
            reply = self.inbox.handle(method, path, query, doc, user)
        if reply is not None:
            return reply
        return 400, {}, {"error": {"code": "BadRequest", "message": f"fake: {method} {path}"}}

    def _upload_put(
        self, session: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        self.upload_puts += 1
        if "Authorization" in headers:  # as the real service: the URL is the credential
            return 401, {}, {"error": {"code": "InvalidAuthenticationToken", "message": "no"}}
        upload = self.uploads[session]
        start, end, total = map(int, re.findall(r"\d+", headers["Content-Range"]))
        assert start == len(upload.data) and total == upload.size and end - start + 1 == len(body)
        upload.data.extend(body)
        if len(upload.data) < upload.size:
            return 200, {}, {"nextExpectedRanges": [f"{len(upload.data)}-"]}
        self.drafts[upload.message_id]["attachments"].append(
            {
                "name": upload.name,
                "contentType": upload.content_type,
                "contentBytes": None,
                "content": bytes(upload.data),
            }
        )
        return 201, {}, None

    def _deliver(self, message: dict[str, Any]) -> None:
        for att in message.get("attachments", []):
            if att.get("content") is None:
                att["content"] = base64.b64decode(att["contentBytes"])
        message.setdefault("id", f"sent-{next(self._ids)}")
        self.sent.append(message)

    def _find(self, odata_filter: str,
              folder: list[dict[str, Any]] | None = None) -> list[dict[str, str]]:
        match = re.search(r"ep/id eq '(.*?)' and ep/value eq '((?:[^']|'')*)'", odata_filter)
        assert match, f"fake Graph: unsupported $filter {odata_filter!r}"
        prop_id, value = match.group(1), match.group(2).replace("''", "'")
        return [
            {"id": m["id"], "internetMessageId": m.get("internetMessageId", "")}
            for m in (self.sent if folder is None else folder)
            if {"id": prop_id, "value": value} in m.get("singleValueExtendedProperties", [])
        ]


@pytest.fixture
def graph_server(tmp_path: Path) -> Iterator[FakeGraphServer]:
    server = FakeGraphServer(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()
