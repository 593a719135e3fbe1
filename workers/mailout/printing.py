"""The day's print batch: every postal letter due, in one PDF, and a manifest CSV.

Grouped by recipient, each recipient's letters starting on a new sheet (a group with an odd page
count gets a blank page, so duplex printing never puts two people's letters on one sheet), and
within a letter each document on a fresh sheet (the form to send back never printed on the back
of the letter with the address, nor with the instructions on its back). The
address sits where a DL window envelope shows it (the templates' layout). The manifest lists
dispatch ids, references, form codes and page ranges, never names or addresses. Building a batch
claims its dispatches (``print_batch_id``); `mark-printed` records them sent, one
``dispatch.printed`` audit event each.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from workers.casework import notices
from workers.casework.contact import postal_address
from workers.core.clock import LONDON
from workers.documents.filters import uk_date
from workers.errors import NotFoundError, RefusedError, ServiceUnavailableError
from workers.host.private_files import make_private_dir, open_private
from workers.inputs.csvcells import safe_row
from workers.mailout.compose import form_returned, pack, reminder_expired
from workers.mailout.documents import MailoutConfig, pdf_enabled
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.reviews.distribution import RECORD_COPY_KIND
from workers.reviews.distribution_compose import printed_copy
from workers.store import audit
from workers.store.models import Dispatch, Participant, PrintBatch, Review
from workers.survey import posting as survey_post

if TYPE_CHECKING:
    from workers.documents.tagged import TaggedJoin

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # letters done, letters in the batch
MANIFEST_COLUMNS = ("sequence", "dispatch_id", "key", "kind", "review_ref", "participant_ref",
                    "form_code", "first_page", "pages")


@dataclass(frozen=True)
class BatchResult:
    batch_id: int | None  # None: nothing to print that day
    letters: int
    pages: int
    pdf_path: Path | None
    manifest_path: Path | None
    called_off: int  # reminders whose form had come back


def day_end(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` in London, as UTC."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LONDON).astimezone(dt.UTC)


def build_batch(sessions: sessionmaker[Session], cfg: MailoutConfig, day: dt.date, *,
                actor: str = "system", progress: Progress | None = None) -> BatchResult:
    """Build the day's batch. The letters are claimed in a short transaction of their own and
    the PDF made outside any write transaction: making 50+ letters takes a minute, and a write
    transaction held that long blocked every other save on the SQLite store (issue 18). If the
    build fails, its letters are released for the next one. ``progress(done, total)`` is told
    after each letter (the web page's progress bar)."""
    started: list[int] = []
    try:
        return _build(sessions, cfg, day, actor=actor, started=started,
                      progress=progress or (lambda done, total: None))
    except BaseException:
        if started:
            _release(sessions, started[0])
        raise


def _release(sessions: sessionmaker[Session], batch_id: int) -> None:
    with sessions() as session:
        session.execute(update(Dispatch).where(Dispatch.print_batch_id == batch_id,
                                               Dispatch.state == "pending")
                        .values(print_batch_id=None).execution_options(synchronize_session=False))
        batch = session.get(PrintBatch, batch_id)
        if batch is not None and not batch.pdf_path:
            session.delete(batch)
        session.commit()
    log.warning("print batch %s was not finished; its letters wait for the next batch",
                batch_id)


def _build(sessions: sessionmaker[Session], cfg: MailoutConfig, day: dt.date, *,
           actor: str, started: list[int], progress: Progress) -> BatchResult:
    if not pdf_enabled(cfg):
        raise ServiceUnavailableError(
            "a print batch needs LibreOffice to make the PDF; install libreoffice-writer-nogui "
            "(make system-deps)")
    with sessions() as session:
        rows = list(session.execute(
            select(Dispatch, Review.ref, Participant.ref)
            .join(Review, Dispatch.review_id == Review.id)
            .join(Participant, Dispatch.participant_id == Participant.id)
            .where(Dispatch.channel == "post", Dispatch.state == "pending",
                   Dispatch.print_batch_id.is_(None),
                   Dispatch.kind.in_((INVITATION_KIND, REMINDER_KIND, RECORD_COPY_KIND,
                                      *notices.KINDS, *survey_post.KINDS)),
                   Dispatch.due_at < day_end(day))
            .order_by(Review.ref, Participant.ref, Dispatch.id)
        ).all())
        called_off = 0
        wanted = []
        for dispatch, review_ref, person_ref in rows:
            if dispatch.kind == REMINDER_KIND and (
                    form_returned(session, dispatch) or _expired(session, dispatch, day)):
                dispatch.state = "cancelled"
                audit.record(session, "dispatch.cancelled", "dispatch", dispatch.id,
                             reason="form_returned" if form_returned(session, dispatch)
                             else "expired")
                called_off += 1
                continue
            if survey_post.answered(session, dispatch):  # a survey reminder, answered since
                dispatch.state = "cancelled"
                audit.record(session, "dispatch.cancelled", "dispatch", dispatch.id,
                             reason="answered")
                called_off += 1
                continue
            wanted.append((dispatch, review_ref, person_ref))
        if not wanted:
            session.commit()
            return BatchResult(None, 0, 0, None, None, called_off)
        batch = PrintBatch(batch_date=day)
        session.add(batch)
        session.flush()
        # Claim the letters first, conditionally: a second batch built at the same moment
        # finds them taken and gives up rather than printing them twice.
        ids = [d.id for d, _, _ in wanted]
        claimed = session.execute(
            update(Dispatch).where(Dispatch.id.in_(ids), Dispatch.print_batch_id.is_(None))
            .values(print_batch_id=batch.id).execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != len(ids):
            session.rollback()
            raise RefusedError("another print batch is being built for these letters; run "
                               "`iro print-batch` again when it has finished")
        started.append(batch.id)
        session.commit()  # the claim, now: no write transaction is held while the PDF is made
        made = compose(session, cfg, wanted, progress)
        pdf_path, manifest_path = write_files(cfg, day, batch.id, f"batch-{batch.id}", made)
        # the address each letter carries (DESIGN.md §6), written with the batch at the end:
        # a write now would hold SQLite's lock through the whole build (issue 18)
        for dispatch_id, address in made.sent_to.items():
            session.execute(update(Dispatch).where(Dispatch.id == dispatch_id)
                            .values(sent_to=address).execution_options(synchronize_session=False))
        batch.pdf_path, batch.manifest_path = str(pdf_path), str(manifest_path)
        letters, pages = len(made.manifest), made.pages
        audit.record(session, "print_batch.created", "print_batch", batch.id, actor=actor,
                     batch_date=day, letters=letters, pages=pages)
        session.commit()
        log.info("print batch %s: %d letters, %d pages", batch.id, letters, pages)
        return BatchResult(batch.id, letters, pages, pdf_path, manifest_path, called_off)


@dataclass
class Made:
    """A batch's letters joined into one PDF, with the manifest and the address each carries."""

    join: TaggedJoin
    manifest: list[dict[str, object]]
    sent_to: dict[int, str]

    @property
    def pages(self) -> int:
        return self.join.pages


def compose(session: Session, cfg: MailoutConfig, wanted: list[tuple[Dispatch, str, str]],
            progress: Progress) -> Made:
    """Render the letters (dispatch, review ref, participant ref), each recipient's on a new
    sheet, into one PDF (used to build a batch and to print it again)."""
    from pypdf import PdfReader

    from workers.documents.tagged import TaggedJoin

    made = Made(TaggedJoin(), [], {})  # the letters' tags, language and titles kept
    join, manifest = made.join, made.manifest
    progress(0, len(wanted))
    groups: dict[int, list[tuple[Dispatch, str, str]]] = {}
    for item in wanted:
        groups.setdefault(item[0].participant_id or 0, []).append(item)
    for group in groups.values():
        if join.pages % 2:
            join.blank_page()  # each recipient starts on a new sheet
        for dispatch, review_ref, person_ref in group:
            first = join.pages + 1
            if dispatch.kind == RECORD_COPY_KIND:
                attachments = printed_copy(cfg, session, dispatch)
                person = session.get(Participant, dispatch.participant_id)
            elif dispatch.kind in survey_post.KINDS:
                person, attachments = survey_post.pack(cfg, session, dispatch)
            else:
                if dispatch.kind in notices.KINDS:
                    _, _, person, attachments = notices.pack(cfg, session, dispatch)
                else:
                    _, _, person, attachments = pack(cfg, session, dispatch, duplex=True)
            if person is not None:
                made.sent_to[dispatch.id] = postal_address(person)
            for attachment in attachments:
                join.append(PdfReader(io.BytesIO(attachment.content)))
            manifest.append({
                "sequence": len(manifest) + 1, "dispatch_id": dispatch.id,
                "key": dispatch.key, "kind": dispatch.kind, "review_ref": review_ref,
                "participant_ref": person_ref,
                "form_code": dispatch.reference_code or dispatch.params.get("form_code") or "",
                "first_page": first, "pages": join.pages - first + 1,
            })
            progress(len(manifest), len(wanted))
    if join.pages % 2:
        join.blank_page()
    return made


def write_files(cfg: MailoutConfig, day: dt.date, batch_id: int, name: str,
                made: Made) -> tuple[Path, Path]:
    """The PDF and the manifest CSV in the print folder, readable by this account only."""
    folder = make_private_dir(Path(cfg.settings.print_dir))
    stem = f"print-{day.isoformat()}-{name}"
    pdf_path, manifest_path = folder / f"{stem}.pdf", folder / f"{stem}.csv"
    # many people's letters: titled by the batch, not by anyone's letter
    data = made.join.finish(f"Print batch {batch_id}, {uk_date(day)}", keep_metadata=False)
    with open_private(pdf_path, "wb") as fh:  # children's letters: this account's eyes only
        fh.write(data)
    with open_private(manifest_path, "w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
        out.writeheader()
        out.writerows(safe_row(row) for row in made.manifest)  # opened in Excel by print room
    return pdf_path, manifest_path


def _expired(session: Session, dispatch: Dispatch, day: dt.date) -> bool:
    review = session.get(Review, dispatch.review_id)
    return review is not None and reminder_expired(dispatch, review, day)


def mark_printed(sessions: sessionmaker[Session], batch_id: int, *, now: dt.datetime,
                 actor: str = "system") -> int:
    """Record the batch's letters as sent (posted) at ``now``; returns how many."""
    with sessions() as session:
        batch = session.get(PrintBatch, batch_id)
        if batch is None:
            raise NotFoundError(f"no print batch {batch_id}; see the names in the print folder")
        if not batch.pdf_path:
            raise RefusedError(f"print batch {batch_id} was never finished (no PDF); nothing "
                               "of it was printed: build the batch again")
        if batch.voided_at is not None:
            raise RefusedError(f"print batch {batch_id} was voided; its letters go in a later "
                               "batch: mark that one posted")
        if batch.printed_at is not None:
            raise RefusedError(f"print batch {batch_id} was already marked printed at "
                               f"{batch.printed_at:%Y-%m-%d %H:%M} UTC")
        rows = session.scalars(select(Dispatch).where(Dispatch.print_batch_id == batch_id,
                                                      Dispatch.state == "pending")).all()
        for dispatch in rows:
            dispatch.state, dispatch.sent_at, dispatch.updated_at = "sent", now, now
            audit.record(session, "dispatch.printed", "dispatch", dispatch.id, actor=actor,
                         print_batch_id=batch_id)
        batch.printed_at = now
        audit.record(session, "print_batch.printed", "print_batch", batch_id, actor=actor,
                     letters=len(rows))
        session.commit()
    return len(rows)
