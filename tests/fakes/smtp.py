"""A real SMTP server (aiosmtpd) on a free loopback port, for tests to send to and inspect.

Registered as a pytest plugin in tests/conftest.py, so any test can ask for ``smtp_server``:

    def test_letter(smtp_server):
        transport = SmtpTransport(SmtpConfig(host=smtp_server.host, port=smtp_server.port, ...))
        ...
        smtp_server.wait_for(1)
        msg = smtp_server.messages[0]          # an email.message.EmailMessage
        msg["X-IRO-Dispatch"], msg.get_payload()...

It is reachable from other processes too (worker subprocesses in crash tests). It can be told to
refuse recipients (``refuse_recipient(addr, code)``, for good or a number of ``times``), to require
a login (``require_auth``), or to defer/reject DATA (``data_reply``). Each message records when it
arrived by the server's own clock (``Received.at``, ``time.monotonic()``), so a test counts sends
per window as the server saw them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port(host: str = "127.0.0.1") -> int:
    """aiosmtpd cannot bind port 0 (it connects to itself to check), so pick a port first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    at: float = field(default_factory=time.monotonic)  # when the server accepted it

    def parsed(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    refusals_left: dict[str, int] = field(default_factory=dict)  # address → times; absent: always
    credentials: tuple[str, str] | None = None
    data_reply: str | None = None  # e.g. "452 4.3.1 try later" or "552 5.3.4 too big"
    logins: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    # -- what tests read ---------------------------------------------------------------------

    @property
    def messages(self) -> list[EmailMessage]:
        with self._cond:
            return [r.parsed() for r in self.received]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages arrived (a wait, not a timing assertion)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(
                    f"SMTP server got {len(self.received)} messages, expected {count}"
                )
        return self.messages

    def clear(self) -> None:
        with self._cond:
            self.received.clear()

    # -- what tests set ----------------------------------------------------------------------

    def refuse_recipient(
        self, address: str, code: int = 550, text: str = "5.1.1 no such user",
        *, times: int | None = None,
    ) -> None:
        self.refused[address.lower()] = (code, text)
        if times is not None:
            self.refusals_left[address.lower()] = times

    def require_auth(self, username: str, password: str) -> None:
        self.credentials = (username, password)

    # -- aiosmtpd handler hooks --------------------------------------------------------------

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        refusal = self.refused.get(address.lower())
        if refusal:
            left = self.refusals_left.get(address.lower())
            if left is not None:
                self.refusals_left[address.lower()] = left - 1
                if left == 1:
                    del self.refused[address.lower()]
            return f"{refusal[0]} {refusal[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.data_reply:
            return self.data_reply
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode()
        with self._cond:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), data))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and self.credentials
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        ):
            self.logins += 1
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def start_smtp_server(host: str = "127.0.0.1", **options: Any) -> tuple[SmtpServer, Controller]:
    """``options`` go to aiosmtpd: ``tls_context=`` offers STARTTLS, ``ssl_context=`` is
    implicit TLS."""
    port = free_port(host)
    server = SmtpServer(host=host, port=port)
    controller = Controller(
        server,
        hostname=host,
        port=port,
        authenticator=server.authenticate,
        auth_require_tls=False,  # loopback tests; production uses STARTTLS/TLS
        **options,
    )
    controller.start()
    return server, controller


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server on 127.0.0.1:<free port>; received messages in ``.messages``."""
    server, controller = start_smtp_server()
    try:
        yield server
    finally:
        controller.stop()
