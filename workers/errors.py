"""The project's error tree.

Every error a user can meet is one of these; each message says what went wrong *and what to do*.
Adapters translate library errors at the boundary (``raise DeliveryError(...) from exc``) so the
core never sees an exchangelib, httpx or SQLAlchemy exception. The CLI maps ``exit_code`` to the
process exit status (documented in ``iro --help``).

Messages carry ids and references, never a child's or participant's name, address or document text.
"""

from __future__ import annotations

# Exit codes, documented in `iro --help` (see workers/cli/main.py).
EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = 2
EXIT_SERVICE_DOWN = 3
EXIT_TEMPLATE = 4


class IroError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code: int = EXIT_UNEXPECTED


class BadInputError(IroError):
    """Input a person supplied (a file, a flag, a reference) is wrong; fix it and run again."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(BadInputError):
    """A configuration file or IRO_* setting is invalid. The message names file, line and field."""


class ImportRowError(BadInputError):
    """A CSV row is wrong. The message names the line and the column; nothing was imported."""


class NotFoundError(BadInputError):
    """A reference (review, child, escalation, dispatch) does not exist in the store."""


class RefusedError(BadInputError):
    """The action is not allowed (wrong person, wrong state); nothing was changed."""


class PreflightError(BadInputError):
    """A mail-out failed its checks for at least one recipient; nothing was sent."""


class ServiceUnavailableError(IroError):
    """A service this command needs (database, Redis, mail server, LibreOffice) is unreachable."""

    exit_code = EXIT_SERVICE_DOWN


class DatabaseUnavailableError(ServiceUnavailableError):
    """The store cannot be reached; loops wait for it (workers.queue.outage), commands exit 3."""


class QueueUnavailableError(ServiceUnavailableError):
    """Redis cannot be reached; loops wait for it (workers.queue.outage), commands exit 3."""


class TemplateError(IroError):
    """A Word template is broken or cannot be filled. The message names template, part and field."""

    exit_code = EXIT_TEMPLATE


class DeliveryError(IroError):
    """Sending a message failed. Subclasses say whether to retry, wait, pause or give up."""

    exit_code = EXIT_SERVICE_DOWN


class TransientDeliveryError(DeliveryError):
    """A passing fault (connection reset, timeout, 5xx): retry with back-off."""


class ThrottledError(TransientDeliveryError):
    """The server asked us to slow down; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """This message can never be delivered as it is (bad recipient, too large, send-as denied).

    The dispatch fails with this reason; a person must correct the case record or the document.
    """


class AuthenticationError(DeliveryError):
    """The mail account's credentials were refused.

    All sending is paused until an engineer fixes them (one alert, not a failure per letter).
    """


class ConverterError(TransientDeliveryError):
    """LibreOffice failed for a reason of its own: it timed out, crashed, stopped answering, or
    no converter was free in the time a letter is given. That LibreOffice was restarted and
    nothing is wrong with the document; a letter is retried with back-off, as after a dropped
    connection (hence a TransientDeliveryError). A command that met it can be run again."""
