"""The completed review record comes back from the IRO: keep it, stop its clock, read its
decisions into the store (issue 15 §1). Sessions are passed in and callers commit.

A record whose decisions cannot be read is still kept (and its clock stopped: the record was
written); the result carries the reason, and the caller tells the person what to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workers.errors import RecordUnreadableError
from workers.host.private_files import make_private_dir, write_private
from workers.reviews import records
from workers.reviews.calendar import Calendar
from workers.reviews.clock import WriteUpKind
from workers.reviews.decision_dates import due_date, is_done
from workers.reviews.draft_inputs import previous_review
from workers.reviews.held import deadline_key
from workers.reviews.record_file import read_decisions, read_progress
from workers.reviews.service import stop_writeup
from workers.store import audit, keyed
from workers.store.models import Review, ReviewDecision


@dataclass(frozen=True)
class RecordReturned:
    review_ref: str
    kept_at: Path
    decisions: int
    clock_stopped: bool
    in_time: bool | None
    working_days_taken: int | None
    problem: str = ""  # why the decisions could not be read; empty when they were


def keep_record_file(documents_dir: Path, review: Review, content: bytes,
                     stem: str = "record") -> Path:
    """The returned record with the case (``<child>/<review>/record/record.docx``, then
    ``record-2.docx`` …; ``decisions.docx`` for the decisions sent first; never overwritten).
    The sender's file name is not kept: it may carry a child's name."""
    folder = Path(documents_dir) / review.child.ref / review.ref / "record"
    make_private_dir(folder)
    path, n = folder / f"{stem}.docx", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.docx"
    write_private(path, content)
    return path


def store_decisions(session: Session, review: Review, content: bytes, name: str) -> int:
    """Replace the review's decisions with those read from the record; raises
    RecordUnreadableError (nothing replaced) when they cannot be read."""
    rows = read_decisions(content, name)
    session.execute(delete(ReviewDecision).where(ReviewDecision.review_id == review.id))
    for row in rows:
        session.add(ReviewDecision(review_id=review.id, number=row.number, outcome=row.outcome,
                                   action=row.action, responsible=row.responsible,
                                   timescale=row.timescale, indicator=row.indicator,
                                   due_on=due_date(row.timescale, review.held_on)))
    session.flush()
    return len(rows)


def store_progress(session: Session, review: Review, content: bytes) -> int:
    """The progress this record writes against the previous review's decisions, onto those
    decisions (matched by number; only those the store holds); returns how many."""
    progress = read_progress(content)
    before = previous_review(session, review)
    if not progress or before is None:
        return 0
    count = 0
    for decision in session.scalars(select(ReviewDecision).where(
            ReviewDecision.review_id == before.id)):
        if decision.number in progress:
            decision.progress = progress[decision.number]
            decision.done = is_done(decision.progress)
            count += 1
    session.flush()
    return count


def record_returned(
    session: Session,
    calendar: Calendar,
    documents_dir: Path,
    review_ref: str,
    *,
    written_on: dt.date,
    name: str,
    content: bytes,
    today: dt.date,
    actor: str,
    kind: WriteUpKind = "record",
) -> RecordReturned:
    """Keep the file, stop the record clock (unless already stopped), read the decisions.

    ``kind="decisions"``: the decisions were sent first (within 5 working days, the record
    follows within 15); the file is the draft with its decisions table filled, and the
    decisions clock is the one stopped. The record given later replaces the decisions."""
    review = records.review_by_ref(session, review_ref)
    deadline = keyed.deadline_by_key(session, deadline_key(review.ref, kind))
    stopped = deadline is None or deadline.met_on is None
    if stopped:
        stop_writeup(session, calendar, review.ref, kind, written_on, today=today,
                     actor=actor)
    kept = keep_record_file(documents_dir, review, content,
                            "record" if kind == "record" else "decisions")
    if kind == "record":
        review.record_file = str(kept)
    problem = ""
    count = 0
    try:
        count = store_decisions(session, review, content, Path(name).name)
    except RecordUnreadableError as exc:
        problem = str(exc)
    progressed = store_progress(session, review, content) if kind == "record" else 0
    audit.record(session, f"review_{kind}.returned", "review", review.id, actor=actor,
                 review_ref=review.ref, decisions=count, readable=not problem,
                 previous_progress=progressed)
    deadline = keyed.deadline_by_key(session, deadline_key(review.ref, kind))
    return RecordReturned(
        review_ref=review.ref, kept_at=kept, decisions=count, clock_stopped=stopped,
        in_time=deadline.in_time if deadline else None,
        working_days_taken=deadline.working_days_taken if deadline else None,
        problem=problem,
    )
