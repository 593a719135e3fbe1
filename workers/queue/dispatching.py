"""Sending one dispatch, exactly once in effect: claim, ask, send, record.

The dispatch row is the truth and the queue only carries its id, so any number of copies of a
message may arrive (a retry, a reconciler re-enqueue, dramatiq's own recovery) and at most one
of them does the work:

1. **Claim** with a conditional UPDATE: ``pending``/``queued`` (and due) → ``sending``, or a
   ``sending`` row whose lease expired (its worker died). A copy that loses the race does nothing.
2. **Ask first** when the row was already ``sending``: the send journal (workers.queue.send_journal:
   what a worker sent but could not record, e.g. while the database was down), then
   ``transport.find_sent(key)`` (EWS and Graph look in Sent Items); a hit is recorded as sent
   without sending again.
3. For SMTP and the outbox the deterministic Message-ID is stored *with the claim*, before the
   attempt: SMTP cannot be asked, so a resend after a crash carries the same id (the documented
   window: killed after the server accepted, before the send journal's note).
4. **Wait your turn**: while the mail server has told any worker to back off
   (workers.mail.backoff), no worker claims, asks or sends for that mailbox. The per-mailbox rate
   limit (workers.mail.ratelimit) holds a slot before composing and counts it from the moment of
   sending, so the server never sees more than the limit in a window. Over the limit, or inside a
   back-off, the row goes back to ``queued`` due when it may go and dramatiq retries the message
   after that delay — no sleeping in a worker thread, no attempt counted.
5. **Send**, note it in the send journal, then commit ``sent`` with the message id and an audit
   event in one transaction, and forget the note. A record that fails (database down) leaves
   the note for whichever worker takes the dispatch when its lease lapses.
   A deferral by the server (throttling, a 4xx, a dropped connection) and a letter another worker
   held when it died come back on the urgent queue (workers.queue.actors), ahead of any backlog.

Errors are classified here; the actor only turns ``RetryLater`` into dramatiq's ``Retry``.
Logs and stored errors carry dispatch ids and keys only, never names or addresses.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import (
    AuthenticationError,
    BadInputError,
    PermanentDeliveryError,
    TemplateError,
    ThrottledError,
    TransientDeliveryError,
)
from workers.mail.backoff import Backoff, InProcessBackoff
from workers.mail.message import OutgoingMessage, Transport
from workers.mail.mime import message_id_for
from workers.mail.pause import PauseHooks
from workers.mail.ratelimit import RateLimiter, Unlimited
from workers.queue import row_states as rows
from workers.queue.outcomes import Outcome, RetryLater, backoff_seconds, claimable
from workers.queue.send_journal import MemoryJournal, SendJournal
from workers.store import audit
from workers.store.models import Child, Dispatch, Participant, Review

log = logging.getLogger(__name__)

# Transports whose "did it go?" record is a Message-ID we choose (workers.mail.mime).
MESSAGE_ID_TRANSPORTS = frozenset({"smtp", "outbox"})
# Transports that can be asked whether a letter went (they look in Sent Items): after an error
# that may have come once the server had the letter (a timeout, a lost answer), the next attempt
# asks before it sends again.
ASKABLE_TRANSPORTS = frozenset({"ews", "graph"})
PAUSE_CHECK_SECONDS = 1.0

Composer = Callable[[Session, Dispatch], OutgoingMessage]



@dataclass
class Dispatcher:
    sessions: sessionmaker[Session]
    transport: Transport
    compose: Composer
    pause: PauseHooks
    lease: float = 30.0
    clock: Clock = SYSTEM_CLOCK
    limiter: RateLimiter = field(default_factory=Unlimited)
    backoff: Backoff = field(default_factory=InProcessBackoff)
    journal: SendJournal = field(default_factory=MemoryJournal)
    _unpaused_until: float = field(default=0.0, init=False, repr=False)

    def process(self, dispatch_id: int) -> Outcome:
        """Do whatever this dispatch still needs. Raises RetryLater to be tried again.

        One session (one pooled connection) per dispatch: the claim loads the case with it, so
        the composer finds the rows in the session instead of asking the database again.
        """
        with self.sessions() as session:
            return self._process(session, dispatch_id)

    def _process(self, session: Session, dispatch_id: int) -> Outcome:
        quiet = self._backoff_left()
        if quiet > 0:  # before the claim: nothing to put back, and no request reaches the server
            raise RetryLater(f"dispatch {dispatch_id}: the mail server asked us to wait",
                             _spread(quiet), throttled=True)
        claimed = self._claim(session, dispatch_id)
        if isinstance(claimed, Outcome):
            return claimed
        row, was_sending = claimed
        attempts = row.attempts  # as the claim counted it (a rollback below expires the row)
        if was_sending:
            found = self._find_sent(dispatch_id, row)
            if found is not None:
                log.info("dispatch %s was already sent (found after a retry)", dispatch_id)
                return self._record_sent(session, dispatch_id, found, recovered=True)
        handed = False  # whether the server may have the letter (then ask before sending again)
        try:
            message = self._compose_in_turn(session, dispatch_id, row)
            handed = self.transport.name in ASKABLE_TRANSPORTS
            message_id = self.transport.send(message)
        except ThrottledError as exc:
            session.rollback()
            self._hold_back(exc)
            # an HTTP 503 or 429 may come from a proxy after Exchange took the letter: ask first
            self._requeue(dispatch_id, str(exc), exc.retry_after, cause="throttled",
                          ask_first=handed)
            raise RetryLater(str(exc), exc.retry_after, throttled=True, urgent=True) from exc
        except TransientDeliveryError as exc:
            session.rollback()
            delay = backoff_seconds(attempts)
            self._requeue(dispatch_id, str(exc), delay, cause="transient", ask_first=handed)
            raise RetryLater(str(exc), delay, throttled=False, urgent=True) from exc
        except AuthenticationError as exc:
            session.rollback()
            return self._pause_sending(dispatch_id, str(exc))
        except (PermanentDeliveryError, TemplateError, BadInputError) as exc:
            session.rollback()
            return self.fail(dispatch_id, str(exc))
        # Before the record, which needs the database: if that is down, the note tells whoever
        # takes this dispatch next that it went (workers.queue.send_journal).
        self.journal.note(dispatch_id, message_id, self.clock.now())
        return self._record_sent(session, dispatch_id, message_id, recovered=False)

    # -- steps -------------------------------------------------------------------------------

    def _compose_in_turn(
        self, session: Session, dispatch_id: int, row: Dispatch
    ) -> OutgoingMessage:
        """Compose inside a held slot of the mailbox's rate; the slot counts from the moment this
        returns, immediately before the send (workers.mail.ratelimit).

        Held before composing, so a full window turns the letter back before 1-10 s of PDF work
        rather than after it; asked again after composing, because the send is what the server
        counts, and because another worker may have been told to back off meanwhile.
        """
        mailbox, slot = self.transport.mailbox, uuid.uuid4().hex
        self._wait_for_slot(dispatch_id, self.limiter.try_acquire(mailbox, slot))
        try:
            message = self.compose(session, row)
            session.commit()  # end any read the composer began: no transaction open while sending
            self._wait_for_slot(dispatch_id, self._backoff_left())
            self._wait_for_slot(dispatch_id, self.limiter.try_acquire(mailbox, slot))
        except BaseException:
            self.limiter.release(mailbox, slot)  # not sent: the next letter may have it
            raise
        return message

    def _backoff_left(self) -> float:
        return self.backoff.remaining(self.transport.mailbox, self.clock.now())

    def _hold_back(self, exc: ThrottledError) -> None:
        """The server's wait is the mailbox's: every worker keeps it (workers.mail.backoff)."""
        self.backoff.hold(self.transport.mailbox, exc.retry_after, self.clock.now())

    def _find_sent(self, dispatch_id: int, row: Dispatch) -> str | None:
        """Whether a letter a worker was sending went: the send journal first (a worker that sent
        it could not record it), then the server. A busy server holds every worker back, and this
        letter stays ``sending`` (so the next attempt asks again) and comes back ahead of the
        backlog when both the wait and this claim are over."""
        noted = self.journal.find(dispatch_id, sent_at=row.sent_at)
        if noted is not None:
            return noted
        try:
            return self.transport.find_sent(row.key)
        except ThrottledError as exc:
            self._hold_back(exc)
            raise RetryLater(str(exc), max(exc.retry_after, self.lease + 1.0), throttled=True,
                             urgent=True) from exc

    def _paused(self, session: Session) -> bool:
        """The shared pause flag, asked at most once a second while it is down (one query a
        letter otherwise); a send in that second meets the refused login and pauses too."""
        if time.monotonic() < self._unpaused_until:
            return False
        paused = self.pause.is_paused(session)
        if not paused:
            self._unpaused_until = time.monotonic() + PAUSE_CHECK_SECONDS
        return paused

    def _claim(self, session: Session, dispatch_id: int) -> tuple[Dispatch, bool] | Outcome:
        """Take the dispatch, loading it with its participant, review and child in one query
        (the composers then find them in the session)."""
        now = self.clock.now()
        if self._paused(session):
            return Outcome("paused", dispatch_id)
        found = session.execute(
            select(Dispatch, Participant, Review, Child)
            .outerjoin(Participant, Participant.id == Dispatch.participant_id)
            .outerjoin(Review, Review.id == Dispatch.review_id)
            .outerjoin(Child, Child.id == Review.child_id)
            .where(Dispatch.id == dispatch_id)
        ).first()
        if found is None:
            session.rollback()
            log.warning("dispatch %s does not exist; message dropped", dispatch_id)
            return Outcome("skipped", dispatch_id)
        row = found[0]
        # The session's identity map holds rows weakly: keep the case alive until composed.
        session.info["dispatch_case"] = tuple(found)
        state = row.state
        values: dict[str, object] = {
            "state": "sending",
            "claimed_at": now,
            "updated_at": now,
            "attempts": Dispatch.attempts + 1,
        }
        if self.transport.name in MESSAGE_ID_TRANSPORTS:
            values["message_id"] = message_id_for(row.key, self.transport.mailbox)
        # The state read above is part of the condition, so a copy that raced us loses here.
        result = session.execute(
            update(Dispatch)
            .where(Dispatch.id == dispatch_id, Dispatch.state == state)
            .where(claimable(now, self.lease))  # type: ignore[arg-type]
            .values(values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if result.rowcount != 1:  # type: ignore[attr-defined]
            held = self._lease_left(row, state, now)
            if held > 0:
                # Another worker holds it, or held it and died: look again when the lease ends,
                # ahead of any backlog, rather than wait for the reconciler's next pass (a killed
                # worker's letters must go within a minute whatever the scheduler's tick).
                raise RetryLater(f"dispatch {dispatch_id}: claimed by another worker",
                                 held + 1.0, throttled=True, urgent=True)
            return Outcome("skipped", dispatch_id)
        values["attempts"] = row.attempts + 1
        for name, value in values.items():  # what the UPDATE wrote, without loading it again
            set_committed_value(row, name, value)
        return row, state == "sending"

    def _lease_left(self, row: Dispatch, state: str, now: dt.datetime) -> float:
        if state != "sending" or row.claimed_at is None:
            return 0.0
        return self.lease - (now - row.claimed_at).total_seconds()

    def _record_sent(
        self, session: Session, dispatch_id: int, message_id: str, *, recovered: bool
    ) -> Outcome:
        """Commit ``sent``; raises if the database cannot be reached (the journal's note stays).

        Idempotent: a retry after a commit whose answer was lost, or after another worker
        recorded the same send from the journal, changes nothing and audits nothing.
        """
        rows.mark_sent(session, dispatch_id, message_id, now=self.clock.now(),
                       transport=self.transport.name, recovered=recovered)
        session.commit()
        self.journal.forget(dispatch_id)
        return Outcome("recovered" if recovered else "sent", dispatch_id, message_id)

    def _wait_for_slot(self, dispatch_id: int, wait: float) -> None:
        """Over the mailbox's rate, or inside its back-off (``wait`` > 0): due again when it may
        go, the attempt not counted."""
        if wait <= 0:
            return
        delay = _spread(wait)
        self._requeue(dispatch_id, None, delay, uncount=True)
        raise RetryLater(f"dispatch {dispatch_id}: mailbox rate limit or back-off", delay,
                         throttled=True)

    def _requeue(
        self,
        dispatch_id: int,
        reason: str | None,
        delay: float,
        *,
        cause: str | None = None,
        uncount: bool = False,
        ask_first: bool = False,
    ) -> None:
        """Back to ``queued``, not due before the delay (so no copy sends early).

        ``cause`` records the deferral (with its delay) as an audit event; ``uncount`` takes back
        the attempt the claim counted (a rate-limit wait is not an attempt). ``ask_first`` keeps
        the row ``sending`` with a claim that lapses when the delay ends, so whoever takes it
        then asks the server (and the send journal) before sending again.
        """
        with self.sessions() as session:
            rows.mark_queued(session, dispatch_id, now=self.clock.now(), delay=delay,
                             reason=reason, uncount=uncount,
                             ask_first_lease=self.lease if ask_first else None)
            if cause is not None:
                audit.record(session, "dispatch.deferred", "dispatch", dispatch_id,
                             cause=cause, delay_seconds=round(delay, 3))
            session.commit()
        log.info("dispatch %s will be retried in %.1f s", dispatch_id, delay)

    def _pause_sending(self, dispatch_id: int, reason: str) -> Outcome:
        """Credentials refused: pause everything, leave this dispatch queued, alert once."""
        now = self.clock.now()
        with self.sessions() as session:
            session.execute(
                update(Dispatch)
                .where(Dispatch.id == dispatch_id, Dispatch.state == "sending")
                .values(state="queued", due_at=now, updated_at=now, claimed_at=None,
                        last_error=reason[:2000])
                .execution_options(synchronize_session=False)
            )
            self._unpaused_until = 0.0
            first = self.pause.pause(session, reason)
            if first:
                audit.record(session, "sending.paused", "dispatch", dispatch_id,
                             transport=self.transport.name)
            session.commit()
        if first:
            log.critical(
                "ALERT: all sending is paused: the %s transport's credentials were refused "
                "(dispatch %s). Fix the credentials, then run `iro dispatches resume`.",
                self.transport.name, dispatch_id,
            )
        return Outcome("paused", dispatch_id)

    def fail(
        self,
        dispatch_id: int,
        reason: str,
        *,
        only_from: tuple[str, ...] = ("sending",),
        keep_error: bool = False,
    ) -> Outcome:
        """The dispatch can never go as it is: ``failed`` with a reason a person can act on.

        ``keep_error`` keeps the last error stored (retries exhausted) and appends ``reason``.
        """
        with self.sessions() as session:
            changed, text = rows.mark_failed(session, dispatch_id, reason, now=self.clock.now(),
                                             only_from=only_from, keep_error=keep_error)
            session.commit()
        if changed:
            log.warning("dispatch %s failed: %s", dispatch_id, text)
        return Outcome("failed" if changed else "skipped", dispatch_id)


def _spread(wait: float) -> float:
    """A wait with jitter, never shorter: the waiters do not all come back at the same instant
    for the one slot that freed, or the moment a back-off ends."""
    return wait * random.uniform(1.0, 1.25) + random.uniform(0.0, 1.0)  # noqa: S311


