"""A form that came back by post, recorded by a person (`iro returns record`, the review's
returns page): the one path both take, so the checks, the kept scan and its clean-up agree.

The scan is checked (workers.returns.scans) and kept under a name of our own, never the name
it was sent with: that may carry a child's name.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from workers.errors import BadInputError
from workers.returns.scans import check_scan
from workers.returns.service import Recorded, check_recordable, keep_file, record_return
from workers.store.models import Dispatch, Review


def check_posted(session: Session, letter: Dispatch, received_on: dt.date,
                 today: dt.date) -> None:
    """Refuses (saying why) a posted return that cannot be recorded on ``received_on``."""
    if received_on > today:
        raise BadInputError(f"received on {received_on.isoformat()} is in the future")
    check_recordable(session, letter, received_on)


def record_posted(session: Session, documents_dir: Path, letter: Dispatch, review: Review, *,
                  received_on: dt.date, scan: tuple[str, bytes] | None,
                  actor: str) -> Recorded:
    """Record it and commit; a kept scan is removed again if the recording fails."""
    kept = (keep_file(documents_dir, letter, review, check_scan(*scan), scan[1])
            if scan is not None else None)
    try:
        done = record_return(session, letter, received_on=received_on, channel="post",
                             file_path=kept, actor=actor)
        session.commit()
    except BaseException:
        if kept is not None:
            kept.unlink(missing_ok=True)
        raise
    return done
