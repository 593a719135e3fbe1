"""Each review's preflight answer kept for the mail-outs due page, keyed by everything it is
worked out from, so a page of 25 is drawn from memory once each review has been checked.

The key: the review's, its child's, its participants' and its letters' last change (and how many
participants and letters there are, so a deleted one counts), the templates' files and the
config folder's files (name, size, time), the rules, directory and calendar this process loaded,
and today from the injected clock. Any change to one of them is a different key: the answer is
worked out again. Only the page reads this; sending always runs a full preflight
(``workers.web.bulk_mailout``), never trusting a kept answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.store.models import Child, Dispatch, Participant, Review

if TYPE_CHECKING:
    from workers.web.context import WebContext
    from workers.web.support_reviews import Check

MAX_KEPT = 5000  # a year's reviews and more; the oldest answers go first


class PreflightCache:
    """Answers by key, the least recently used dropped past ``MAX_KEPT`` (thread-safe: the
    page's rows are checked by concurrent requests)."""

    def __init__(self, size: int = MAX_KEPT) -> None:
        self._kept: OrderedDict[Hashable, Check] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Check | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Hashable, check: Check) -> None:
        with self._lock:
            self._kept[key] = check
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


def _files(folder: Path) -> str:
    """The folder's files by name, size and time of last change, as one short digest."""
    digest = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}\n"
                          .encode())
    return digest.hexdigest()[:32]


def versions(ctx: WebContext) -> tuple[Hashable, ...]:
    """What every review's answer depends on beyond its own rows."""
    return (_files(ctx.settings.templates_dir), _files(ctx.settings.config_dir), id(ctx.rules),
            id(ctx.directory), id(ctx.calendar), id(ctx.settings), ctx.today())


def keys(session: Session, refs: Iterable[str], shared: tuple[Hashable, ...],
         now: dt.datetime) -> dict[str, Hashable]:
    """Each review's key (reviews not found have none). Whether its meeting has begun is part
    of it: preflight refuses a mail-out from that moment (workers.mailout.timing), not from the
    next day."""
    wanted = list(refs)
    if not wanted:
        return {}
    def latest(table: type[Participant] | type[Dispatch]) -> list[Any]:
        mine = table.review_id == Review.id
        return [select(func.max(table.updated_at)).where(mine).scalar_subquery(),
                select(func.count()).select_from(table).where(mine).scalar_subquery()]

    rows = session.execute(
        select(Review.ref, Review.scheduled_at, Review.updated_at, Child.updated_at,
               *latest(Participant), *latest(Dispatch))
        .join(Child, Child.id == Review.child_id).where(Review.ref.in_(wanted)))
    return {ref: (ref, meeting is not None and meeting <= now, *rest, *shared)
            for ref, meeting, *rest in rows}
