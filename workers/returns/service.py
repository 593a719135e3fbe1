"""Returns and bounces against the store (sessions passed in or opened here; audited).

A return is recorded once per form (``returns.dispatch_id`` is unique); one message may return
several forms (issue 16 §3). A return dated before its form was sent, or for a form not sent yet,
is refused. Recording one calls off that form's reminders not yet sent; an emailed one from an
address that is not the participant's is filed but waits for a person to confirm it. A bounce
marks the dispatch ``bounced`` (shown by `iro dispatches --failed`), never a return.
Attachments are kept under ``documents_dir/<child ref>/<review ref>/`` with the case.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.core.clock import london_date
from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.host.private_files import make_private_dir, write_private
from workers.inputs.paths import inside
from workers.mailout.codes import normalise
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.store import audit
from workers.store.models import Dispatch, Participant, Return, Review

log = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def issued(session: Session, codes: Iterable[str]) -> set[str]:
    wanted = list(codes)
    if not wanted:
        return set()
    found = session.scalars(
        select(Dispatch.reference_code).where(Dispatch.reference_code.in_(wanted))
    ).all()
    return {code for code in found if code}


def dispatch_by_code(session: Session, code: str) -> Dispatch:
    canonical = normalise(code)
    if canonical is None:
        raise BadInputError(f"{code!r} is not a form reference code (C- and 8 characters)")
    found = session.scalars(
        select(Dispatch).where(Dispatch.reference_code == canonical)
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"no form was sent with code {canonical}; check the code on the form")
    return found


def reminder_prefix(letter_key: str) -> str:
    """``R-1/mailout/P-3/invitation`` → ``R-1/mailout/P-3/reminder/``."""
    return letter_key.rsplit("/", 1)[0] + "/reminder/"


def call_off_reminders(session: Session, letter: Dispatch, reason: str,
                       channels: tuple[str, ...] = ("email", "post")) -> int:
    result = session.execute(
        update(Dispatch)
        .where(Dispatch.key.startswith(reminder_prefix(letter.key), autoescape=True))
        .where(Dispatch.kind == REMINDER_KIND, Dispatch.channel.in_(channels))
        .where(Dispatch.state.in_(("pending", "queued")), Dispatch.print_batch_id.is_(None))
        .values(state="cancelled")  # updated_at: the column stamps it
        .returning(Dispatch.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(result.scalars())
    for dispatch_id in ids:
        audit.record(session, "dispatch.cancelled", "dispatch", dispatch_id, reason=reason)
    return len(ids)


def keep_file(documents_dir: Path, letter: Dispatch, review: Review, name: str,
              content: bytes) -> Path:
    """Store a returned form's file with the case; the name keeps only safe characters."""
    folder = inside(Path(documents_dir), review.child.ref, review.ref, "returns")
    make_private_dir(folder)
    safe = _SAFE.sub("_", Path(name).name).strip("._") or "form"
    path = inside(folder, f"{letter.reference_code}-{safe}")
    n = 1
    while path.exists():
        n += 1
        path = inside(folder, f"{letter.reference_code}-{n}-{safe}")
    write_private(path, content)
    return path


class ReturnRefused(RefusedError):
    """A return that cannot be recorded; ``reason`` names why for the unmatched list."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def family(letter: Dispatch) -> ColumnElement[bool]:
    """The letter and its resent or re-planned copies (``<key>/resend-N``), which keep its code."""
    return or_(Dispatch.key == letter.key,
               Dispatch.key.startswith(letter.key + "/", autoescape=True))


def form_sent_on(session: Session, letter: Dispatch) -> dt.date | None:
    """The day the form first went (emailed, or its print batch posted); None: not yet."""
    first = session.scalar(select(func.min(Dispatch.sent_at)).where(
        Dispatch.kind == letter.kind, Dispatch.sent_at.is_not(None), family(letter)))
    return london_date(first) if first else None


def check_dates(session: Session, letter: Dispatch, received_on: dt.date) -> dt.date:
    """The day the form was sent; ReturnRefused if it was not, or after ``received_on``."""
    code = letter.reference_code
    sent_on = form_sent_on(session, letter)
    if sent_on is None:
        waiting = (f"; it is in print batch {letter.print_batch_id}: mark the batch posted first "
                   f"(`iro print-batch mark-printed {letter.print_batch_id}`)"
                   if letter.print_batch_id else "")
        raise ReturnRefused(f"the form {code} has not been sent yet (its letter is "
                            f"{letter.state}){waiting}; check the code on the form; nothing "
                            "was recorded", "not_sent")
    if received_on < sent_on:
        raise ReturnRefused(f"the form {code} was sent on {sent_on.isoformat()}: a return "
                            f"dated {received_on.isoformat()} is before that; check the date "
                            "and the code on the form; nothing was recorded", "before_sent")
    return sent_on


def _already(letter: Dispatch) -> ReturnRefused:
    return ReturnRefused(f"the form {letter.reference_code} was already recorded as returned",
                         "already_returned")


def check_recordable(session: Session, letter: Dispatch, received_on: dt.date) -> None:
    """ReturnRefused (or RefusedError) unless a return of ``letter`` on that day can be
    recorded: it carried a form, not returned yet, sent on or before ``received_on``."""
    if letter.kind != INVITATION_KIND or not letter.reference_code:
        raise RefusedError(f"dispatch {letter.id} carried no consultation form")
    if session.scalar(select(Return.id).where(Return.dispatch_id == letter.id)) is not None:
        raise _already(letter)
    check_dates(session, letter, received_on)


def participant_addresses(session: Session, letter: Dispatch) -> set[str]:
    """The addresses a return of this form may come from without a person confirming it."""
    person = session.get(Participant, letter.participant_id) if letter.participant_id else None
    found = {person.email if person else None}
    for sent in session.execute(select(Dispatch.recipient, Dispatch.sent_to)
                                .where(Dispatch.kind == letter.kind, family(letter))):
        found.update(sent)
    return {a.strip().lower() for a in found if a and "@" in a}


@dataclass(frozen=True)
class Recorded:
    return_id: int
    dispatch_id: int
    code: str
    reminders_called_off: int


def record_return(
    session: Session,
    letter: Dispatch,
    *,
    received_on: dt.date,
    channel: str,
    source_message_id: str | None = None,
    file_path: Path | None = None,
    sender: str | None = None,
    actor: str = "system",
) -> Recorded:
    """Record the form as returned (the caller commits). ReturnRefused if it already was, was
    not sent yet or after ``received_on``. An emailed return whose ``sender`` is not one of the
    participant's addresses is filed with ``needs_confirmation``."""
    check_recordable(session, letter, received_on)
    flagged = channel == "email" and (sender or "") not in participant_addresses(session, letter)
    row = Return(dispatch_id=letter.id, received_on=received_on, channel=channel,
                 source_message_id=source_message_id,
                 file_path=str(file_path) if file_path else None,
                 sender=sender or None, needs_confirmation=flagged)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another poller recorded it a moment ago
        raise _already(letter) from None
    called_off = call_off_reminders(session, letter, "form_returned")
    audit.record(session, "return.recorded", "dispatch", letter.id, actor=actor,
                 return_id=row.id, code=letter.reference_code, channel=channel,
                 received_on=received_on, reminders_called_off=called_off,
                 needs_confirmation=flagged,
                 sender_domain=(sender or "").rpartition("@")[2][:100] or None)
    log.info("form %s returned (dispatch %s)", letter.reference_code, letter.id)
    return Recorded(row.id, letter.id, letter.reference_code or "", called_off)


def record_bounce(session: Session, dispatch: Dispatch, *, source_message_id: str,
                  actor: str = "system") -> bool:
    """Mark the dispatch bounced (the caller commits); False if it already was."""
    if dispatch.state == "bounced":
        return False
    previous = dispatch.state
    dispatch.state = "bounced"
    dispatch.last_error = "the recipient's mail system returned it undelivered (NDR); check " \
        "the address on the case record, or send by post"
    called_off = 0
    if dispatch.kind == INVITATION_KIND:
        called_off = call_off_reminders(session, dispatch, "bounced", channels=("email",))
    audit.record(session, "dispatch.bounced", "dispatch", dispatch.id, actor=actor,
                 previous_state=previous, reminders_called_off=called_off,
                 source_message_id=source_message_id[:200])
    log.warning("dispatch %s bounced", dispatch.id)
    return True


def dispatches_by_message_ids(session: Session, ids: Iterable[str]) -> list[Dispatch]:
    wanted = [i.lower() for i in ids]
    if not wanted:
        return []
    return list(session.scalars(
        select(Dispatch).where(func.lower(Dispatch.message_id).in_(wanted))
    ))
