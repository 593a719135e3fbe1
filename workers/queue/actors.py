"""Thin dramatiq actors: they take dispatch ids only and hand them to the dispatcher.

Actors are declared on a broker by ``declare(broker)`` rather than at import, so importing this
module never creates a broker (dramatiq's ``@actor`` would make a default Redis one).

Retry policy, deliberately:
- throttling (the server or our rate limit asked us to wait) is retried after the delay asked for,
  up to ``THROTTLE_MAX_RETRIES`` times — a storm must not fail letters;
- a connection error is retried with back-off (5 s … 10 min), ``MAX_RETRIES`` times;
- the database or Redis unavailable (a restart, a failover, SQLite locked) is waited out like
  throttling, 1–10 s at a time, and told once a minute (workers.queue.outage), not a traceback a
  letter: an outage must neither fail letters nor fill the log;
- anything unexpected is retried like a connection error, with dramatiq's back-off;
- a final failure is reported once, by ``dispatch_gave_up`` (``on_retry_exhausted``);
- a bad configuration is thrown (``throws``): retrying cannot fix it.

Two queues carry the same work. ``dispatch`` takes what the scheduler finds due, in order.
``dispatch.urgent`` takes letters that were already on their way: a deferral by the mail server
(throttling, a 4xx, a dropped connection), a letter a dead worker held (retaken when its lease
ends) and whatever the reconciler sends again. A retry otherwise goes to the back of its queue,
and behind a long backlog those letters went 183-241 s after the fault (issue 21). dramatiq's
Redis broker has no per-message priority, so the urgent actor is a second actor with the same
body on its own queue and a higher priority: every worker consumes both queues, and a worker
thread takes an urgent message before any ordinary one it has fetched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq import Retry
from dramatiq.middleware import CurrentMessage

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import ConfigError
from workers.queue.dispatching import Dispatcher
from workers.queue.outage import DATABASE, dependency_of, outage
from workers.queue.outcomes import RetryLater

if TYPE_CHECKING:
    from workers.config.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "dispatch"
URGENT_QUEUE = "dispatch.urgent"
QUEUES = (QUEUE, URGENT_QUEUE)
SEND = "send_dispatch"
SEND_URGENT = "send_dispatch_urgent"
SENDS = (SEND, SEND_URGENT)
URGENT_PRIORITY = -10  # dramatiq: lower runs first; the ordinary actor keeps the default 0
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
                raise ConfigError("no dispatcher configured: call workers.queue.actors.use() first")
            _dispatcher = _factory()
        return _dispatcher


# -- the actors' bodies ------------------------------------------------------------------------


def send_dispatch(dispatch_id: int, broker: dramatiq.Broker | None = None) -> None:
    try:
        current_dispatcher().process(dispatch_id)
    except RetryLater as later:
        delay_ms = max(1, int(later.delay_seconds * 1000))
        retry = (
            Throttled(f"dispatch {dispatch_id} throttled", delay=delay_ms) if later.throttled
            else Retry(f"dispatch {dispatch_id} will be retried", delay=delay_ms)
        )
        if later.urgent and broker is not None and _retry_urgently(broker, dispatch_id, retry):
            return
        raise retry from None
    except Exception as exc:
        dependency = dependency_of(exc)
        if dependency is None:
            raise
        delay_ms = max(1, int(outage(dependency).failed(exc) * 1000))
        raise Throttled(f"dispatch {dispatch_id}: {dependency} unavailable",
                        delay=delay_ms) from None
    outage(DATABASE).recovered()


def _retry_urgently(broker: dramatiq.Broker, dispatch_id: int, retry: Retry) -> bool:
    """Send the retry of an ordinary message to the urgent queue, with the retries it has used;
    False leaves it to dramatiq (already urgent, or out of retries: dramatiq gives up as usual).

    The urgent message is enqueued before this one is acknowledged, so a crash between the two
    leaves a copy, never nothing (the claim lets one copy through)."""
    message = CurrentMessage.get_current_message()
    if message is None or message.queue_name != QUEUE:
        return False
    retries = int(message.options.get("retries", 0))
    if not should_retry(retries, retry):
        return False
    broker.get_actor(SEND_URGENT).send_with_options(
        args=(dispatch_id,), delay=retry.delay, retries=retries + 1,
        time_limit=message.options.get("time_limit", TIME_LIMIT_MS),
    )
    return True


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
    """Declare the actors on ``broker`` (once per broker); returns the ordinary send actor."""
    if SEND in broker.actors:
        return broker.get_actor(SEND)
    if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
        broker.add_middleware(CurrentMessage())  # _retry_urgently reads the message's retries
    dramatiq.actor(
        actor_name=GAVE_UP, queue_name=QUEUE, broker=broker, max_retries=3, time_limit=60_000
    )(dispatch_gave_up)

    def send(dispatch_id: int) -> None:
        send_dispatch(dispatch_id, broker)

    options: dict[str, Any] = {
        "broker": broker,
        "max_retries": MAX_RETRIES,  # read by should_retry for everything but throttling
        "retry_when": should_retry,
        "min_backoff": MIN_BACKOFF_MS,
        "max_backoff": MAX_BACKOFF_MS,
        "time_limit": TIME_LIMIT_MS,
        "throws": (ConfigError,),
        "on_retry_exhausted": GAVE_UP,
    }
    dramatiq.actor(actor_name=SEND_URGENT, queue_name=URGENT_QUEUE, priority=URGENT_PRIORITY,
                   **options)(send)
    return dramatiq.actor(actor_name=SEND, queue_name=QUEUE, **options)(send)


def enqueue(
    broker: dramatiq.Broker,
    dispatch_ids: Iterable[int],
    *,
    lease: float,
    urgent: bool = False,
) -> int:
    """Send one message per id. Call only after the commit that made them ``queued``.

    ``urgent`` puts them on the urgent queue, ahead of the backlog (the reconciler's re-sends).
    Each message's time limit stays under the claim lease, so a stuck send is interrupted before
    another worker may take the dispatch over. The broker's ledger notes each message as it is
    enqueued, so the reconciler can tell a waiting message from a lost one (workers.queue.ledger).
    """
    declare(broker)
    actor = broker.get_actor(SEND_URGENT if urgent else SEND)
    time_limit_ms = max(1_000, int(lease * 800))
    count = 0
    for dispatch_id in dispatch_ids:
        actor.send_with_options(args=(dispatch_id,), time_limit=time_limit_ms)
        count += 1
    return count


# -- building a dispatcher from settings -------------------------------------------------------


def join(broker: dramatiq.Broker, **options: Any) -> None:
    """Wait until both send queues are empty (``iro run --once``, tests). An ordinary message
    may move to the urgent queue before it is acknowledged, never the other way, so joining them
    in this order misses nothing once nothing new is enqueued."""
    for queue_name in QUEUES:
        if queue_name in broker.get_declared_queues():
            broker.join(queue_name, **options)


def build_dispatcher(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Dispatcher:
    """Store, transport, composers, the pause flag, and the mailbox's rate limit and back-off
    (one Redis connection pool for both) for a worker process, on ``clock``."""
    from workers.mail.backoff import make_backoff
    from workers.mail.factory import make_transport
    from workers.mail.pause import default_pause_hooks
    from workers.mail.ratelimit import make_rate_limiter
    from workers.queue.assembly import install
    from workers.queue.compose import ComposeContext, Composers
    from workers.queue.outcomes import lease_seconds
    from workers.queue.send_journal import make_send_journal
    from workers.store.session import open_store

    install()
    from workers.documents.contexts import Letterhead

    client = None
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)

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
        limiter=make_rate_limiter(settings, client),
        backoff=make_backoff(settings, client),
        journal=make_send_journal(settings),
        clock=clock,
    )
