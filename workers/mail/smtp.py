"""SMTP transport (smtplib): plain, STARTTLS or implicit TLS, optional AUTH, timeouts.

``find_sent`` always answers None: SMTP cannot be asked what it delivered. Exactly-once in
effect rests on the deterministic Message-ID (workers.mail.mime.message_id_for), which the
worker records on the dispatch *before* the attempt; a retry after a crash re-sends with the
same Message-ID, and receiving systems treat it as the same message.

Connections are pooled (one per concurrent sender thread) and reused between messages.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from dataclasses import dataclass
from typing import Literal

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import (
    AuthenticationError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from workers.mail.message import OutgoingMessage, loggable_key
from workers.mail.mime import build_mime, envelope_recipients, message_id_for, mime_bytes

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    mailbox: str
    security: Security = "none"
    username: str | None = None
    password: str | None = None  # from IRO_SMTP_PASSWORD only (see workers.config.settings)
    timeout_seconds: float = 30.0
    display_name: str = ""
    reply_to: str | None = None
    ssl_context: ssl.SSLContext | None = None  # None: the system's default trust store


class SmtpTransport:
    name = "smtp"

    def __init__(self, config: SmtpConfig, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.mailbox = config.mailbox
        self.clock = clock  # the Date header
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    # -- connections -------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        return self.config.ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        conn: smtplib.SMTP
        if cfg.security == "tls":
            conn = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=self._context()
            )
        else:
            conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
        try:
            conn.ehlo()
            if cfg.security == "starttls":
                conn.starttls(context=self._context())
                conn.ehlo()
            if cfg.username:
                conn.login(cfg.username, cfg.password or "")
        except BaseException:
            _quietly_close(conn)
            raise
        return conn

    def _checkout(self) -> smtplib.SMTP:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _checkin(self, conn: smtplib.SMTP) -> None:
        with self._lock:
            self._idle.append(conn)

    # -- the Transport interface -----------------------------------------------------------

    def send(self, message: OutgoingMessage) -> str:
        recipients = envelope_recipients(message)
        date = self.clock.now()
        # Built once, as bytes (send_message would build and flatten an EmailMessage: ~2.5 ms).
        data = mime_bytes(
            message,
            sender=self.config.mailbox,
            display_name=self.config.display_name,
            reply_to=self.config.reply_to,
            date=date,
        ) if all(a.isascii() for a in (*recipients, self.config.mailbox)) else None
        message_id = message_id_for(message.dispatch_key, self.config.mailbox)
        # A pooled connection the server has since dropped fails on first use; one fresh retry
        # (never more: after DATA was accepted we would risk a duplicate).
        for attempt in (1, 2):
            reused = attempt == 1
            try:
                conn = self._checkout() if reused else self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                raise classify_smtp_error(exc, message.dispatch_key, self.config) from exc
            try:
                if data is None:  # an address outside ASCII: smtplib negotiates SMTPUTF8
                    conn.send_message(build_mime(message, sender=self.config.mailbox,
                                                 display_name=self.config.display_name,
                                                 reply_to=self.config.reply_to, date=date),
                                      from_addr=self.config.mailbox, to_addrs=recipients)
                else:
                    conn.sendmail(self.config.mailbox, recipients, data)
            except smtplib.SMTPServerDisconnected as exc:
                _quietly_close(conn)
                if attempt == 1:
                    continue
                raise classify_smtp_error(exc, message.dispatch_key, self.config) from exc
            except (smtplib.SMTPException, OSError) as exc:
                _reset_or_close(conn, self)
                raise classify_smtp_error(exc, message.dispatch_key, self.config) from exc
            self._checkin(conn)
            return message_id
        raise AssertionError("unreachable")  # pragma: no cover

    def find_sent(self, dispatch_key: str) -> str | None:
        return None  # see the module docstring: the caller recorded the Message-ID beforehand

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(conn)


def _quietly_close(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):  # closing a dead socket
        conn.close()


def _reset_or_close(conn: smtplib.SMTP, transport: SmtpTransport) -> None:
    """After a refused message the session is still good: RSET and keep it."""
    try:
        conn.rset()
    except (smtplib.SMTPException, OSError):
        _quietly_close(conn)
    else:
        transport._checkin(conn)


def classify_smtp_error(exc: BaseException, dispatch_key: str, cfg: SmtpConfig) -> DeliveryError:
    """Map smtplib/socket errors to the project's tree.

    Messages carry the dispatch key, the server and SMTP codes only: the server's reply text
    often quotes the recipient's address, so it is never copied into our message.
    """
    where = f"dispatch {loggable_key(dispatch_key)} via SMTP {cfg.host}:{cfg.port} as {cfg.mailbox}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return AuthenticationError(
            f"{where}: the server refused the login (SMTP {exc.smtp_code}); "
            "check IRO_SMTP_USERNAME and IRO_SMTP_PASSWORD, then resume sending"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentDeliveryError(
            f"{where}: the server does not support a required extension ({exc}); "
            "check IRO_SMTP_SECURITY and whether the server offers AUTH"
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        if codes and all(code < 500 for code in codes):
            return TransientDeliveryError(f"{where}: recipient deferred (SMTP {codes}); will retry")
        return PermanentDeliveryError(
            f"{where}: the server refused the recipient address (SMTP {codes}); "
            "correct the participant's email address in the case record"
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        if exc.smtp_code < 500:
            return TransientDeliveryError(f"{where}: sender deferred (SMTP {exc.smtp_code})")
        if exc.smtp_code == 552:
            return _too_large(where, exc.smtp_code)
        return PermanentDeliveryError(
            f"{where}: the server will not accept mail from this mailbox (SMTP {exc.smtp_code}); "
            "give the service account send-as rights on the mailbox or fix IRO_MAILBOX_ADDRESS"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        if code in (552, 534) or (code == 554 and b"size" in (exc.smtp_error or b"").lower()):
            return _too_large(where, code)
        if 400 <= code < 500:
            return TransientDeliveryError(f"{where}: temporary failure (SMTP {code}); will retry")
        if code == 535:
            return AuthenticationError(f"{where}: authentication failed (SMTP 535)")
        return PermanentDeliveryError(f"{where}: the server rejected the message (SMTP {code})")
    if isinstance(exc, ssl.SSLError):
        return TransientDeliveryError(
            f"{where}: TLS failed ({type(exc).__name__}); "
            "check IRO_SMTP_SECURITY and the server's certificate"
        )
    # Connection refused/reset, DNS, timeouts, disconnects: retry with back-off.
    return TransientDeliveryError(f"{where}: connection failed ({type(exc).__name__}); will retry")


def _too_large(where: str, code: int) -> PermanentDeliveryError:
    return PermanentDeliveryError(
        f"{where}: the message is too large for the server (SMTP {code}); "
        "reduce the attachments or send the pack by post"
    )
