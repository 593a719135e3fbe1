"""Void or reprint a print batch (issue 16 §1), each audited with the person.

Voiding takes the batch's letters back: they wait, pending, for the next batch, and its PDF and
manifest are removed from the print folder so nobody prints them by mistake. A batch marked
posted is refused, unless the person records that its letters were never posted (then they are
not sent after all, and go again). Reprinting prints the same letters again to a new PDF (a
jammed printer, a lost file) with the same addresses recorded: if an address on the case changed
since the batch was built, it is refused, and voiding sends them to the new address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from workers.casework.contact import postal_address
from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.mailout.documents import MailoutConfig
from workers.mailout.printing import Progress, compose, write_files
from workers.store import audit
from workers.store.models import Dispatch, Participant, PrintBatch, Return, Review
from workers.survey import posting as survey_post


def _batch(session: Session, batch_id: int) -> PrintBatch:
    batch = session.get(PrintBatch, batch_id)
    if batch is None:
        raise NotFoundError(f"no print batch {batch_id}; see the print batches page or the "
                            "names in the print folder")
    if batch.voided_at is not None:
        raise RefusedError(f"print batch {batch_id} was voided at "
                           f"{batch.voided_at:%Y-%m-%d %H:%M} UTC; its letters are in a later "
                           "batch or waiting for the next one")
    return batch


@dataclass(frozen=True)
class Voided:
    batch_id: int
    letters: int  # back to pending, for the next batch
    was_posted: bool


def void(session: Session, batch_id: int, *, reason: str, never_posted: bool = False,
         now: dt.datetime, actor: str) -> Voided:
    """Void the batch (the caller commits). ``never_posted``: it was marked posted in error."""
    if not reason.strip():
        raise BadInputError("say why the batch is voided (--reason TEXT), e.g. 'printer "
                            "jammed, envelopes not sent'; it is kept in the audit trail")
    batch = _batch(session, batch_id)
    posted = batch.printed_at is not None
    if posted and not never_posted:
        raise RefusedError(f"print batch {batch_id} was marked posted at "
                           f"{batch.printed_at:%Y-%m-%d %H:%M} UTC: its letters went. Only if "
                           "they were never posted, void it with --never-posted")
    if never_posted and not posted:
        raise BadInputError(f"print batch {batch_id} was not marked posted; void it without "
                            "--never-posted")
    letters = list(session.scalars(select(Dispatch).where(
        Dispatch.print_batch_id == batch_id,
        Dispatch.state == ("sent" if posted else "pending")).order_by(Dispatch.id)))
    returned = session.scalars(select(Dispatch.reference_code).join(
        Return, Return.dispatch_id == Dispatch.id).where(
        Dispatch.id.in_([d.id for d in letters]))).all()
    if returned:
        raise RefusedError(f"forms of print batch {batch_id} are recorded as returned "
                           f"({', '.join(c for c in returned if c)}): a form never posted "
                           "cannot come back; undo those returns first (`iro returns undo "
                           "CODE --reason TEXT`)")
    for d in letters:
        d.state, d.print_batch_id, d.sent_at, d.sent_to, d.updated_at = (
            "pending", None, None, None, now)
        audit.record(session, "dispatch.print_voided", "dispatch", d.id, actor=actor,
                     print_batch_id=batch_id, was_posted=posted)
    batch.voided_at, batch.void_reason = now, reason.strip()[:500]
    _remove_files(batch)
    audit.record(session, "print_batch.voided", "print_batch", batch_id, actor=actor,
                 reason=reason.strip()[:200], letters=len(letters), was_posted=posted)
    return Voided(batch_id, len(letters), posted)


def _remove_files(batch: PrintBatch) -> None:
    """No children's letters left on disk to be printed by mistake."""
    for name in (batch.pdf_path, batch.manifest_path):
        if name:
            Path(name).unlink(missing_ok=True)


@dataclass(frozen=True)
class Reprinted:
    batch_id: int
    letters: int
    pages: int
    pdf_path: Path
    manifest_path: Path


def reprint(sessions: sessionmaker[Session], cfg: MailoutConfig, batch_id: int, *,
            now: dt.datetime, actor: str, progress: Progress | None = None) -> Reprinted:
    """The batch's letters (those not cancelled since) in a new PDF, the old one removed."""
    with sessions() as session:
        batch = _batch(session, batch_id)
        if batch.printed_at is not None:
            raise RefusedError(f"print batch {batch_id} was marked posted: its letters went. If "
                               "they were never posted, void it with --never-posted and build "
                               "the next batch")
        if not batch.pdf_path:
            raise RefusedError(f"print batch {batch_id} was never finished; build the batch "
                               "again")
        wanted = [(d, review, person) for d, review, person in session.execute(
            select(Dispatch, Review.ref, Participant.ref)
            .join(Review, Dispatch.review_id == Review.id)
            .join(Participant, Dispatch.participant_id == Participant.id)
            .where(Dispatch.print_batch_id == batch_id, Dispatch.state == "pending")
            .order_by(Review.ref, Participant.ref, Dispatch.id))]
        if not wanted:
            raise RefusedError(f"print batch {batch_id} has no letters left to print (all "
                               "cancelled); void it")
        # asked before the letters are rendered (a minute for a large batch), and again of
        # the addresses the rendering used
        _refuse_moved(batch_id, [d for d, _, _ in wanted if d.kind not in survey_post.KINDS
                                 and _address_now(session, d) != d.sent_to])
        made = compose(session, cfg, wanted, progress or (lambda done, total: None))
        _refuse_moved(batch_id, [d for d, _, _ in wanted if made.sent_to.get(d.id) != d.sent_to])
        count = batch.reprints + 1
        pdf_path, manifest_path = write_files(cfg, batch.batch_date, batch_id,
                                              f"batch-{batch_id}-reprint-{count}", made)
        _remove_files(batch)
        batch.pdf_path, batch.manifest_path, batch.reprints = (str(pdf_path), str(manifest_path),
                                                               count)
        audit.record(session, "print_batch.reprinted", "print_batch", batch_id, actor=actor,
                     letters=len(made.manifest), pages=made.pages, reprint=count)
        session.commit()
    return Reprinted(batch_id, len(made.manifest), made.pages, pdf_path, manifest_path)


def _address_now(session: Session, letter: Dispatch) -> str | None:
    person = session.get(Participant, letter.participant_id) if letter.participant_id else None
    return postal_address(person) if person is not None else letter.sent_to


def _refuse_moved(batch_id: int, moved: list[Dispatch]) -> None:
    if moved:
        raise RefusedError(
            f"print batch {batch_id}: the address on the case changed since the batch was "
            f"built for letters {', '.join(str(d.id) for d in sorted(moved, key=lambda d: d.id))};"
            f" nothing was printed. Void the batch (`iro print void {batch_id} --reason TEXT`) so "
            "its letters go in the next batch to the address on the case now")
