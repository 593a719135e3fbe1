"""Polling the team mailbox: returns recorded, bounces marked, the rest left for a person.

Each matched message (a return or a bounce) is recorded and committed, then moved to the
processed folder; a message returning several children's forms files each against its own code,
all or nothing. An unmatched one is left in the inbox and listed (``unmatched_messages`` and an
``inbox.unmatched`` audit event; `iro returns unmatched`) until a person marks it dealt with.
A reply to the draft record email from the review's IRO, with the record attached, is held
for the IRO to confirm (``workers.reviews.record_replies``) and moved. The reader's watermark
is saved in ``service_state`` after each poll, so a message is considered once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from workers.core.clock import london_date
from workers.errors import ThrottledError
from workers.mail.backoff import Backoff
from workers.queue.scheduler import Job, JobContext
from workers.returns import service, unmatched
from workers.returns.attachments import codes_in
from workers.returns.inbox import InboxMessage, InboxReader
from workers.returns.matching import Filing, classify
from workers.reviews import record_replies
from workers.store.models import Return, Review, ServiceState

log = logging.getLogger(__name__)
JOB_NAME = "returns_inbox"
PERIOD_SECONDS = 300.0


@dataclass
class PollSummary:
    returns: int = 0
    bounces: int = 0
    receipts: int = 0  # delivery and read receipts, filed away
    record_replies: int = 0  # the IRO's emailed records, held for their confirmation
    unmatched: list[str] = field(default_factory=list)  # Message-IDs left for a person

    @property
    def total(self) -> int:
        return (self.returns + self.bounces + self.receipts + self.record_replies
                + len(self.unmatched))


def watermark_name(reader: InboxReader) -> str:
    return f"returns.{reader.name}.watermark"


def load_watermark(sessions: sessionmaker[Session], name: str) -> str | None:
    with sessions() as session:
        row = session.get(ServiceState, name)
        return row.value if row and row.value else None


def save_watermark(sessions: sessionmaker[Session], name: str, value: str | None) -> None:
    with sessions() as session:
        row = session.get(ServiceState, name)
        if row is None:
            session.add(ServiceState(name=name, value=value or ""))
        else:
            row.value = value or ""  # updated_at: the column stamps it
        session.commit()


def process(
    sessions: sessionmaker[Session], reader: InboxReader, documents_dir: Path, *,
    now: dt.datetime,
) -> PollSummary:
    """Match every message in the inbox; ``now`` dates a message the server gave no date."""
    summary = PollSummary()
    for message in reader.fetch():
        outcome = _one(sessions, message, documents_dir, message.received_at or now)
        if outcome == "return":
            summary.returns += 1
        elif outcome == "bounce":
            summary.bounces += 1
        elif outcome == "receipt":
            summary.receipts += 1
        elif outcome == "record_reply":
            summary.record_replies += 1
        else:
            summary.unmatched.append(message.message_id)
            continue  # left in the inbox for a person
        reader.move_to_processed(message)
    if summary.total:
        log.info("inbox poll: %d returns, %d bounces, %d records held, %d unmatched",
                 summary.returns, summary.bounces, summary.record_replies, len(summary.unmatched))
    return summary


def _one(sessions: sessionmaker[Session], message: InboxMessage, documents_dir: Path,
         received: dt.datetime) -> str:
    with sessions() as session:
        if record_replies.hold(session, documents_dir, message, received=received) is not None:
            session.commit()
            return "record_reply"
        match = classify(message, lambda codes: service.issued(session, codes),
                         [codes_in(a) for a in message.attachments])
        if match.outcome == "receipt":
            return "receipt"
        if match.outcome == "bounce":
            targets = [service.dispatch_by_code(session, match.code)] if match.code else []
            targets += service.dispatches_by_message_ids(session, match.message_ids)
            if not targets:
                return _unmatched(session, message, "bounce_unmatched")
            for dispatch in {d.id: d for d in targets}.values():
                service.record_bounce(session, dispatch, source_message_id=message.message_id)
            session.commit()
            return "bounce"
        if match.outcome == "unmatched" or not match.filings:
            return _unmatched(session, message, match.reason or "no_code", match.codes)
        if session.scalar(select(Return.id).where(
                Return.source_message_id == message.message_id)) is not None:
            return "return"  # seen before (a poll that died before moving it): just move it
        kept: list[Path] = []
        try:
            for filing in match.filings:
                _file(session, message, filing, documents_dir, received, kept)
        except service.ReturnRefused as exc:
            session.rollback()
            for path in kept:  # nothing filed: no file of it left with any case
                path.unlink(missing_ok=True)
            return _unmatched(session, message, exc.reason, match.codes)
        session.commit()
        return "return"


def _file(session: Session, message: InboxMessage, filing: Filing, documents_dir: Path,
          received: dt.datetime, kept: list[Path]) -> None:
    """One form of the message, with its own attachments, against its own child's review."""
    letter = service.dispatch_by_code(session, filing.code)
    review = session.get(Review, letter.review_id)
    assert review is not None  # a mail-out dispatch always has its review
    mine = [message.attachments[n] for n in filing.attachments]
    files = [service.keep_file(documents_dir, letter, review, a.filename, a.content)
             for a in mine]
    kept.extend(files)
    service.record_return(session, letter, received_on=london_date(received), channel="email",
                          source_message_id=message.message_id,
                          file_path=files[0] if files else None, sender=message.sender)


def _unmatched(session: Session, message: InboxMessage, reason: str,
               codes: tuple[str, ...] = ()) -> str:
    unmatched.add(session, message, reason, codes)
    session.commit()
    log.info("inbox message %s left for a person (%s)", message.message_id[:80], reason)
    return "unmatched"


def poll(sessions: sessionmaker[Session], reader: InboxReader, documents_dir: Path, *,
         now: dt.datetime) -> PollSummary:
    """One poll with the saved watermark (readers built with ``state=None`` get it here)."""
    name = watermark_name(reader)
    if reader.state is None:
        reader.state = load_watermark(sessions, name)
    summary = process(sessions, reader, documents_dir, now=now)
    save_watermark(sessions, name, reader.state)
    return summary


def make_job(build: Callable[[], InboxReader | None], documents_dir: Callable[[], Path],
             throttle: Callable[[], tuple[Backoff, str]] | None = None) -> Job:
    """The scheduler's poll. ``throttle``: the mailbox's shared back-off and the mailbox: the
    server's "wait" is the account's, not one request's (workers.mail.backoff), so the poll does
    not ask while the workers wait, and a wait the poll is told is kept for the workers too."""
    def run(ctx: JobContext) -> int:
        backoff, mailbox = throttle() if throttle is not None else (None, "")
        if backoff is not None and (wait := backoff.remaining(mailbox, ctx.now)) > 0:
            log.info("inbox poll put off to its next turn: the mail server asked for %.1f s "
                     "of quiet", wait)
            return 0
        reader = build()
        if reader is None:
            return 0  # the outbox transport has no inbox
        try:
            return poll(ctx.sessions, reader, documents_dir(), now=ctx.now).total
        except ThrottledError as exc:
            if backoff is not None:
                backoff.hold(mailbox, exc.retry_after, ctx.now)
            log.warning("%s; the next poll tries again", exc)
            return 0
        finally:
            reader.close()

    return Job(JOB_NAME, run, period=PERIOD_SECONDS)
