"""The IRO's reply to the draft record email, with the completed record attached (issue 15 §1).

Nothing in an email proves who sent it: ``From`` and ``In-Reply-To`` are written by the sending
client, and anyone who saw the draft (it may be forwarded) can quote its Message-ID. So a reply
is never read straight into the record. The inbox poll holds one only when it answers the
Message-ID the worker stored on the draft's dispatch (``REF/review_record``), comes from the
review's IRO and carries a .docx: the file is kept apart from accepted records
(``<child>/<review>/record-replies/``), nothing is read into decisions and no clock stops. The
IRO, signed in on the review's page (or `iro review recorded REF --from-reply`), confirms it —
only then does ``record_returned`` run, exactly as for an upload — or discards it. One never
confirmed is deleted after ``mailbox.record_reply_days`` by the periodic run. The sender's
address is compared, never stored or logged. Sessions are passed in; callers commit, then call
``Decided.remove_file`` so no held file outlives a committed decision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workers.core.clock import london_date
from workers.errors import NotFoundError, RefusedError
from workers.host.private_files import make_private_dir, write_private
from workers.queue.scheduler import Job, JobContext
from workers.returns.inbox import InboxAttachment, InboxMessage
from workers.reviews import records
from workers.reviews.calendar import Calendar
from workers.reviews.returned_record import RecordReturned, record_returned
from workers.store import audit
from workers.store.models import Dispatch, RecordReply, Review

log = logging.getLogger(__name__)
DRAFT_KIND = "review_record"  # the draft record's email to the IRO (workers.reviews.held)
HELD = "held"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
JOB_NAME = "record_replies_expiry"
PERIOD_SECONDS = 3600.0
FILE_NAME = "The record emailed back"  # how a read-back problem names the file
FOLDER = "record-replies"  # <child>/<review>/record-replies/: apart from accepted records


def docx_of(message: InboxMessage) -> InboxAttachment | None:
    """The first Word document attached, by name or type."""
    for attachment in message.attachments:
        if attachment.filename.lower().endswith(".docx") or attachment.content_type == DOCX:
            return attachment
    return None


def draft_answered(session: Session, message: InboxMessage) -> tuple[Dispatch, Review] | None:
    """The draft record email this message answers, when it came from that review's IRO with a
    .docx; None otherwise (it is then matched, or left for a person, as any other message)."""
    if message.is_report or message.is_receipt or not message.replies_to or not message.sender:
        return None
    if docx_of(message) is None:
        return None
    drafts = session.scalars(select(Dispatch).where(
        Dispatch.kind == DRAFT_KIND, Dispatch.message_id.is_not(None),
        func.lower(Dispatch.message_id).in_(list(message.replies_to)))).all()
    for draft in drafts:
        review = session.get(Review, draft.review_id) if draft.review_id else None
        if review is not None and review.iro_email.strip().lower() == message.sender:
            return draft, review
    return None


def _folder(documents_dir: Path, review: Review) -> Path:
    """Apart from ``record/``, where accepted records are kept."""
    return Path(documents_dir) / review.child.ref / review.ref / FOLDER


def hold(session: Session, documents_dir: Path, message: InboxMessage, *,
         received: dt.datetime) -> RecordReply | None:
    """Keep the reply's record awaiting the IRO's confirmation (the caller commits); None when
    the message is no such reply. A message held before (a poll that died before moving it) is
    not held twice."""
    found = draft_answered(session, message)
    if found is None:
        return None
    draft, review = found
    before = session.scalars(select(RecordReply).where(
        RecordReply.message_id == message.message_id[:400])).one_or_none()
    if before is not None:
        return before
    attachment = docx_of(message)
    assert attachment is not None  # draft_answered checked
    folder = _folder(documents_dir, review)
    make_private_dir(folder)
    # named by the message: a poll that dies before its commit, or two pollers at once, write
    # the same file again rather than leaving a second copy no row points to
    path = folder / f"reply-{hashlib.sha256(message.message_id.encode()).hexdigest()[:16]}.docx"
    partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
    write_private(partial, attachment.content)
    os.replace(partial, path)  # whole or not at all
    row = RecordReply(review_id=review.id, dispatch_id=draft.id,
                      message_id=message.message_id[:400], file_path=str(path),
                      received_at=received, state=HELD)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another poller held it a moment ago: theirs stands, same file
        return session.scalars(select(RecordReply).where(
            RecordReply.message_id == message.message_id[:400])).one()
    audit.record(session, "record.reply_held", "review", review.id, review_ref=review.ref,
                 reply_id=row.id, received_at=received, bytes=len(attachment.content))
    log.info("review %s: a record emailed back is held for the IRO's confirmation (reply %s)",
             review.ref, row.id)
    return row


def may_confirm(email: str, review: Review, iro_manager_email: str) -> bool:
    """The IRO chairing the review, or the IRO manager (who covers when the IRO is away): the
    only people who may say an emailed record is theirs (the web page adds the signed-in role)."""
    who = email.strip().lower()
    return who in {review.iro_email.strip().lower(), iro_manager_email.strip().lower()}


def held_for(session: Session, review: Review) -> list[RecordReply]:
    """The review's replies awaiting confirmation, the latest first."""
    return list(session.scalars(select(RecordReply).where(
        RecordReply.review_id == review.id, RecordReply.state == HELD)
        .order_by(RecordReply.received_at.desc(), RecordReply.id.desc())))


def _held(session: Session, review: Review, reply_id: int | None) -> RecordReply:
    waiting = held_for(session, review)
    if reply_id is not None:
        waiting = [r for r in waiting if r.id == reply_id]
    if not waiting:
        raise NotFoundError(
            f"review {review.ref}: no record emailed back is waiting for confirmation"
            + (f" as reply {reply_id}" if reply_id is not None else "")
            + "; the IRO replies to the draft email with the record attached, or gives it "
              f"with `iro review recorded {review.ref} --date D --file record.docx`")
    return waiting[0]


def _claim(session: Session, review: Review, reply: RecordReply, state: str) -> None:
    """Held → ``state`` in one conditional write: of two confirms at once (a double click, two
    tabs) the second waits for the first and is refused, so a record is never read twice."""
    done = session.execute(
        update(RecordReply).where(RecordReply.id == reply.id, RecordReply.state == HELD)
        .values(state=state).execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 0) != 1:
        raise RefusedError(f"review {review.ref}: the emailed record (reply {reply.id}) was "
                           "confirmed or discarded a moment ago; nothing more was done")


@dataclass(frozen=True)
class Decided:
    reply_id: int
    review_ref: str
    state: str
    held_file: str | None
    returned: RecordReturned | None = None  # confirmed: as for an upload

    def remove_file(self) -> None:
        """After the caller's commit: the held copy is gone (a confirmed record is kept, as an
        uploaded one, under ``record/``)."""
        if self.held_file:
            Path(self.held_file).unlink(missing_ok=True)


def confirm(session: Session, calendar: Calendar, documents_dir: Path, review_ref: str, *,
            actor: str, today: dt.date, now: dt.datetime, reply_id: int | None = None,
            written_on: dt.date | None = None) -> Decided:
    """The IRO says "this is my record": kept with the case, its clock stopped (on the day it
    was emailed, unless ``written_on``), its decisions read back — ``record_returned``, as for an
    upload. A file that cannot be read is kept all the same and ``returned.problem`` says why."""
    review = records.review_by_ref(session, review_ref)
    reply = _held(session, review, reply_id)
    _claim(session, review, reply, "confirmed")
    if not reply.file_path or not Path(reply.file_path).is_file():
        raise RefusedError(f"review {review.ref}: the emailed record (reply {reply.id}) is no "
                           "longer on disk; ask the IRO to upload it on the review's page")
    content = Path(reply.file_path).read_bytes()
    done = record_returned(session, calendar, documents_dir, review.ref,
                           written_on=written_on or london_date(reply.received_at),
                           name=FILE_NAME, content=content, today=today, actor=actor)
    held_file = reply.file_path
    reply.state, reply.decided_at, reply.decided_by, reply.file_path = \
        "confirmed", now, actor, None
    audit.record(session, "record.reply_confirmed", "review", review.id, actor=actor,
                 review_ref=review.ref, reply_id=reply.id, decisions=done.decisions,
                 readable=not done.problem)
    return Decided(reply.id, review.ref, "confirmed", held_file, done)


def discard(session: Session, review_ref: str, *, actor: str, now: dt.datetime,
            reply_id: int | None = None) -> Decided:
    """"Not mine": the held file is deleted, nothing read."""
    review = records.review_by_ref(session, review_ref)
    reply = _held(session, review, reply_id)
    _claim(session, review, reply, "discarded")
    held_file = reply.file_path
    reply.state, reply.decided_at, reply.decided_by, reply.file_path = \
        "discarded", now, actor, None
    audit.record(session, "record.reply_discarded", "review", review.id, actor=actor,
                 review_ref=review.ref, reply_id=reply.id)
    return Decided(reply.id, review.ref, "discarded", held_file)


def expire(sessions: sessionmaker[Session], *, days: int, now: dt.datetime,
           documents_dir: Path | None = None) -> int:
    """Delete the replies held unconfirmed for more than ``days`` (their files too), and any
    file under a ``record-replies`` folder no held reply points to once it is as old (a poll
    that died between writing and committing); audited."""
    cutoff = now - dt.timedelta(days=days)
    with sessions() as session:
        rows = list(session.scalars(select(RecordReply).where(
            RecordReply.state == HELD, RecordReply.received_at < cutoff)))
        files = []
        for row in rows:
            files.append(row.file_path)
            row.state, row.decided_at, row.file_path = "expired", now, None
            audit.record(session, "record.reply_expired", "review", row.review_id,
                         reply_id=row.id, received_at=row.received_at, days=days)
        held = {str(Path(f).resolve()) for f in session.scalars(select(RecordReply.file_path).where(
            RecordReply.state == HELD, RecordReply.file_path.is_not(None))) if f}
        orphans = _orphans(documents_dir, held, cutoff) if documents_dir else []
        if orphans:
            audit.record(session, "record.reply_files_swept", "service", None,
                         files=len(orphans), days=days)
        session.commit()
    for name in [*files, *orphans]:
        if name:
            Path(name).unlink(missing_ok=True)
    if rows or orphans:
        log.info("%d emailed records never confirmed and %d files no reply points to were "
                 "deleted after %d days", len(rows), len(orphans), days)
    return len(rows) + len(orphans)


def _orphans(documents_dir: Path, held: set[str], cutoff: dt.datetime) -> list[str]:
    """Files in the held-replies folders that no held reply points to, older than ``cutoff``."""
    found = []
    for path in Path(documents_dir).glob(f"*/*/{FOLDER}/*"):
        if path.is_file() and str(path.resolve()) not in held and \
                path.stat().st_mtime < cutoff.timestamp():
            found.append(str(path))
    return found


def make_job(days: Callable[[], int], documents_dir: Callable[[], Path]) -> Job:
    def run(ctx: JobContext) -> int:
        return expire(ctx.sessions, days=days(), now=ctx.now, documents_dir=documents_dir())

    return Job(JOB_NAME, run, period=PERIOD_SECONDS)
