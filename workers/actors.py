"""Thin dramatiq actors: they take dispatch ids only and hand them to the dispatcher.

Actors are declared on a broker by ``declare(broker)`` rather than at import, so importing this
module never creates a broker (dramatiq's ``@actor`` would make a default Redis one).

Retry policy, deliberately:
- throttling (the server or our rate limit asked us to wait) is retried after the delay asked for,
  up to ``THROTTLE_MAX_RETRIES`` times — a storm must not fail letters;
- a connection error is retried with back-off (5 s … 10 min), ``MAX_RETRIES`` times;
- anything unexpected is retried like a connection error, with dramatiq's back-off;
- a final failure is reported once, by ``dispatch_gave_up`` (``on_retry_exhausted``);
- a bad configuration is thrown (``throws``): retrying cannot fix it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq import Retry

from workers.clock import SYSTEM_CLOCK, Clock
from workers.dispatching import Dispatcher, RetryLater
from workers.errors import ConfigError

if TYPE_CHECKING:
    from workers.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "dispatch"
SEND = "send_dispatch"
GAVE_UP = "dispatch_gave_up"
MAX_RETRIES = 8
THROTTLE_MAX_RETRIES = 1000
# The default; each message carries a time limit just under the claim lease (see enqueue).
TIME_LIMIT_MS = 120_000
MIN_BACKOFF_MS = 5_000
MAX_BACKOFF_MS = 600_000


class Throttled(Retry):
    """dramatiq's Retry (not logged as an error) marked so it does not use up the retries."""


_factory: Callable[[], Dispatcher] | None = None
_dispatcher: Dispatcher | None = None
_lock = threading.Lock()


def use(factory: Callable[[], Dispatcher]) -> None:
    """Set how this process builds its dispatcher (built once, on the first message)."""
    global _factory, _dispatcher
    with _lock:
        _factory, _dispatcher = factory, None


def current_dispatcher() -> Dispatcher:
    global _dispatcher
    with _lock:
        if _dispatcher is None:
            if _factory is None:
                raise ConfigError("no dispatcher configured: call workers.actors.use() first")
            _dispatcher = _factory()
        return _dispatcher


# -- the actors' bodies ------------------------------------------------------------------------


def send_dispatch(dispatch_id: int) -> None:
    try:
        current_dispatcher().process(dispatch_id)
    except RetryLater as later:
        delay_ms = max(1, int(later.delay_seconds * 1000))
        if later.throttled:
            raise Throttled(f"dispatch {dispatch_id} throttled", delay=delay_ms) from None
        raise Retry(f"dispatch {dispatch_id} will be retried", delay=delay_ms) from None


def dispatch_gave_up(message_data: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """Called once when a dispatch's retries are exhausted: it fails, with its last error."""
    dispatch_id = int(message_data["args"][0])
    attempts = int(retry_info.get("retries", 0)) + 1
    current_dispatcher().fail(
        dispatch_id,
        f"gave up after {attempts} attempts; see the last error with `iro dispatches --failed`",
        only_from=("queued", "sending"),
        keep_error=True,
    )


def should_retry(retries: int, exc: BaseException) -> bool:
    if isinstance(exc, Throttled):
        return retries < THROTTLE_MAX_RETRIES
    return retries < MAX_RETRIES


# -- declaring and sending ---------------------------------------------------------------------


def declare(broker: dramatiq.Broker) -> dramatiq.Actor[Any, Any]:
    """Declare the actors on ``broker`` (once per broker); returns the send actor."""
    if SEND in broker.actors:
        return broker.get_actor(SEND)
    dramatiq.actor(
        actor_name=GAVE_UP, queue_name=QUEUE, broker=broker, max_retries=3, time_limit=60_000
    )(dispatch_gave_up)
    return dramatiq.actor(
        actor_name=SEND,
        queue_name=QUEUE,
        broker=broker,
        max_retries=MAX_RETRIES,  # read by should_retry for everything but throttling
        retry_when=should_retry,
        min_backoff=MIN_BACKOFF_MS,
        max_backoff=MAX_BACKOFF_MS,
        time_limit=TIME_LIMIT_MS,
        throws=(ConfigError,),
        on_retry_exhausted=GAVE_UP,
    )(send_dispatch)


def enqueue(
    broker: dramatiq.Broker,
    dispatch_ids: Iterable[int],
    *,
    lease: float,
) -> int:
    """Send one message per id. Call only after the commit that made them ``queued``.

    Each message's time limit stays under the claim lease, so a stuck send is interrupted before
    another worker may take the dispatch over. The broker's ledger notes each message as it is
    enqueued, so the reconciler can tell a waiting message from a lost one (workers.queue_ledger).
    """
    actor = declare(broker)
    time_limit_ms = max(1_000, int(lease * 800))
    count = 0
    for dispatch_id in dispatch_ids:
        actor.send_with_options(args=(dispatch_id,), time_limit=time_limit_ms)
        count += 1
    return count


# -- building a dispatcher from settings -------------------------------------------------------


def build_dispatcher(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Dispatcher:
    """Store, transport, composers and the pause flag for a worker process, on ``clock``."""
    from workers.assembly import install
    from workers.compose import ComposeContext, Composers
    from workers.dispatching import default_pause_hooks, lease_seconds
    from workers.mail.factory import make_transport
    from workers.mail.ratelimit import make_rate_limiter
    from workers.store.session import open_store

    install()
    from workers.documents.contexts import Letterhead

    context = ComposeContext(
        allowed_domains=tuple(settings.email.allowed_domains),
        reply_to=settings.mailbox.reply_to_address,
        templates_dir=settings.templates_dir,
        letterhead=Letterhead.from_settings(settings.letterhead),
        clock=clock,
    )
    return Dispatcher(
        sessions=open_store(settings.database_url),
        transport=make_transport(settings, clock),
        compose=Composers(context),
        pause=default_pause_hooks(),
        lease=lease_seconds(settings.scheduler.reconcile_after_seconds),
        limiter=make_rate_limiter(settings),
        clock=clock,
    )
