"""EWS transport (exchangelib) for Exchange Server on premises.

Configured explicitly (DESIGN.md §5): service endpoint, auth type and version given, no
autodiscover; ``FailFast`` so exchangelib never sleeps or retries inside a worker thread (it
would retry a 401 as if it were throttling) — dramatiq does the retrying; Europe/London as the
default time zone; a socket timeout.

Every message carries an extended property holding its dispatch key, and is sent with
SendAndSaveCopy to Sent Items. ``send_and_save`` returns no id, so ``send`` looks the message up
in Sent Items afterwards, and ``find_sent`` does the same before a retry. The Internet
Message-ID is the deterministic one from workers.mail.mime, so receiving systems dedupe too.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Literal

from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    Account,
    Body,
    Build,
    Configuration,
    Credentials,
    EWSTimeZone,
    ExtendedProperty,
    FailFast,
    FileAttachment,
    HTMLBody,
    Identity,
    Mailbox,
    Message,
    OAuth2Credentials,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.folders import SentItems
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter

from workers.errors import (
    AuthenticationError,
    DeliveryError,
    PermanentDeliveryError,
    ThrottledError,
    TransientDeliveryError,
)
from workers.mail.message import OutgoingMessage, loggable_key
from workers.mail.mime import message_id_for

log = logging.getLogger(__name__)

# Our own named property set. Graph addresses the same property as
# "String {PROPERTY_SET_ID} Name IroDispatchKey", so a mailbox moved from EWS to Graph still
# answers "was this dispatch sent?".
PROPERTY_SET_ID = "5d0f6e4c-3b1a-4f3e-9a59-6a1b2c3d4e5f"
PROPERTY_NAME = "IroDispatchKey"
FIELD = "iro_dispatch_key"
DEFAULT_BACK_OFF_SECONDS = 60.0

# Builds for the version names Exchange uses in RequestServerVersion.
BUILDS = {
    "Exchange2013": Build(15, 0),
    "Exchange2013_SP1": Build(15, 0, 847),
    "Exchange2016": Build(15, 1),
    "Exchange2019": Build(15, 2),
}


class IroDispatchKey(ExtendedProperty):
    property_set_id = PROPERTY_SET_ID
    property_name = PROPERTY_NAME
    property_type = "String"


_register_lock = threading.Lock()


def register_dispatch_property() -> None:
    """Teach exchangelib's Message the ``iro_dispatch_key`` field (once per process)."""
    with _register_lock:
        if not any(f.name == FIELD for f in Message.FIELDS):
            Message.register(FIELD, IroDispatchKey)


@dataclass(frozen=True)
class EwsConfig:
    endpoint: str
    mailbox: str
    auth: Literal["ntlm", "basic", "oauth2"] = "ntlm"
    username: str | None = None
    password: str | None = None  # IRO_EWS_PASSWORD only
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None  # IRO_EWS_CLIENT_SECRET only
    version: str = "Exchange2016"
    verify_tls: bool = True
    timeout_seconds: float = 30.0
    display_name: str = ""
    reply_to: str | None = None


def build_account(cfg: EwsConfig) -> Account:
    """An exchangelib Account configured explicitly; no network traffic until first use."""
    if cfg.version not in BUILDS:
        raise ValueError(f"unknown EWS version {cfg.version!r}; use one of {sorted(BUILDS)}")
    credentials: Any
    access_type = DELEGATE
    if cfg.auth == "oauth2":
        credentials = OAuth2Credentials(
            client_id=cfg.client_id,
            client_secret=cfg.client_secret,
            tenant_id=cfg.tenant_id,
            identity=Identity(primary_smtp_address=cfg.mailbox),
        )
        access_type = IMPERSONATION  # the app acts as the team mailbox
    else:
        credentials = Credentials(username=cfg.username or "", password=cfg.password or "")
    if not cfg.verify_tls:
        # exchangelib only offers this process-wide; the setting says the council accepts it.
        BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
    config = Configuration(
        service_endpoint=cfg.endpoint,
        credentials=credentials,
        auth_type={"ntlm": NTLM, "basic": BASIC, "oauth2": OAUTH2}[cfg.auth],
        version=Version(build=BUILDS[cfg.version], api_version=cfg.version),
        retry_policy=FailFast(),
    )
    account = Account(
        primary_smtp_address=cfg.mailbox,
        config=config,
        autodiscover=False,
        access_type=access_type,
        default_timezone=EWSTimeZone("Europe/London"),
    )
    account.protocol.TIMEOUT = cfg.timeout_seconds  # socket timeout for every request
    return account


class EwsTransport:
    name = "ews"

    def __init__(self, config: EwsConfig) -> None:
        self.config = config
        self.mailbox = config.mailbox
        self._account: Account | None = None
        self._sent: Any = None
        self._lock = threading.Lock()

    def _folder(self) -> Any:
        with self._lock:
            if self._sent is None:
                register_dispatch_property()
                self._account = build_account(self.config)
                self._sent = self._account.root.get_default_folder(SentItems)
            return self._sent

    def send(self, message: OutgoingMessage) -> str:
        key = message.dispatch_key
        message_id = message_id_for(key, self.mailbox)
        try:
            sent = self._folder()
            reply_to = message.reply_to or self.config.reply_to
            item = Message(
                account=self._account,
                folder=sent,
                subject=message.subject,
                body=HTMLBody(message.body_html) if message.body_html else Body(message.body_text),
                to_recipients=[Mailbox(email_address=message.to)],
                cc_recipients=[Mailbox(email_address=a) for a in message.cc] or None,
                reply_to=[Mailbox(email_address=reply_to)] if reply_to else None,
                message_id=message_id,
            )
            setattr(item, FIELD, key)
            for att in message.attachments:
                item.attach(
                    FileAttachment(
                        name=att.filename, content=att.content, content_type=att.content_type
                    )
                )
            item.send_and_save()
        except Exception as exc:
            raise classify_ews_error(exc, key, self.config) from exc
        try:
            found = self.find_sent(key)
        except DeliveryError as exc:
            # It went: a busy server or a dropped connection on the look-up afterwards must not
            # read as a failed send, or the retry would send the letter again.
            log.warning("dispatch %s sent via EWS; looking it up in Sent Items failed (%s)",
                        loggable_key(key), type(exc).__name__)
            return message_id
        if found is None:
            # Sent, but not (yet) visible in Sent Items: the Message-ID still identifies it.
            log.warning("dispatch %s sent via EWS but not found in Sent Items yet",
                        loggable_key(key))
            return message_id
        return found

    def find_sent(self, dispatch_key: str) -> str | None:
        try:
            sent = self._folder()
            for item in sent.filter(**{FIELD: dispatch_key}).only("id")[:1]:
                return str(item.id)
        except Exception as exc:
            raise classify_ews_error(exc, dispatch_key, self.config) from exc
        return None

    def close(self) -> None:
        with self._lock:
            if self._account is not None:
                self._account.protocol.close()
            self._account = None
            self._sent = None


def classify_ews_error(exc: BaseException, dispatch_key: str, cfg: EwsConfig) -> DeliveryError:
    """Map exchangelib/requests errors to the project's tree; messages name ids and the mailbox."""
    if isinstance(exc, DeliveryError):
        return exc
    where = f"dispatch {loggable_key(dispatch_key)} via EWS as {cfg.mailbox}"
    name = type(exc).__name__
    if isinstance(exc, ews_errors.ErrorServerBusy):
        back_off = float(exc.back_off) if exc.back_off else DEFAULT_BACK_OFF_SECONDS
        return ThrottledError(
            f"{where}: Exchange is busy and asked us to wait {back_off:g}s (ErrorServerBusy)",
            retry_after=back_off,
        )
    if isinstance(exc, ews_errors.RateLimitError):
        return ThrottledError(f"{where}: rate limited ({name})", DEFAULT_BACK_OFF_SECONDS)
    if isinstance(exc, ews_errors.UnauthorizedError | ews_errors.ErrorAccessDenied):
        return AuthenticationError(
            f"{where}: Exchange refused the credentials ({name}); check IRO_EWS_USERNAME and "
            "IRO_EWS_PASSWORD (or the OAuth2 client secret), then resume sending"
        )
    if isinstance(exc, ews_errors.ErrorImpersonateUserDenied | ews_errors.ErrorNonExistentMailbox):
        return AuthenticationError(
            f"{where}: the service account may not act as this mailbox ({name}); "
            "grant impersonation or check IRO_MAILBOX_ADDRESS, then resume sending"
        )
    if isinstance(exc, ews_errors.ErrorInvalidRecipients | ews_errors.ErrorInvalidSmtpAddress):
        return PermanentDeliveryError(
            f"{where}: Exchange refused the recipient address ({name}); "
            "correct the participant's email address in the case record"
        )
    if isinstance(exc, ews_errors.ErrorMessageSizeExceeded):
        return PermanentDeliveryError(
            f"{where}: the message is too large for Exchange ({name}); "
            "reduce the attachments or send the pack by post"
        )
    if isinstance(exc, ews_errors.ErrorSendAsDenied):
        return PermanentDeliveryError(
            f"{where}: the service account may not send as this mailbox ({name}); "
            "grant it Send As on the mailbox"
        )
    if isinstance(exc, ValueError | TypeError):
        return PermanentDeliveryError(f"{where}: the message cannot be built ({name})")
    # Connection errors, timeouts, transient server errors, malformed answers: retry.
    return TransientDeliveryError(f"{where}: {name}; will retry")
