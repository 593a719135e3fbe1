"""The REVIEWS table of the return (``CHILD,DOB,REVIEW,REVIEW_CODE``) from the reviews the IRO
service held in a collection year (1 April to 31 March), checked with the import's rules before
a byte is written, formula-safe (``inputs.csvcells``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import BadInputError
from workers.inputs.csvcells import safe_values
from workers.ssda903.rules import check_reviews, raise_findings
from workers.ssda903.tables import REVIEWS, Row
from workers.store.models import Child, Review


def year_bounds(text: str) -> tuple[dt.date, dt.date]:
    """``2026-27`` → 1 April 2026 to 31 March 2027 (the 903 collection year)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not m or not m.group(1).isascii() or (int(m.group(1)) + 1) % 100 != int(m.group(2)) \
            or not 1990 <= int(m.group(1)) <= 2190:
        raise BadInputError(f"--year: expected a collection year like 2026-27, got {text!r}")
    first = int(m.group(1))
    return dt.date(first, 4, 1), dt.date(first + 1, 3, 31)


def review_rows(session: Session, start: dt.date, end: dt.date) -> list[list[str]]:
    """One row per review held in the year with a participation code, by child and date."""
    query = (select(Child.ref, Child.date_of_birth, Review.held_on, Review.participation)
             .join(Review, Review.child_id == Child.id)
             .where(Review.held_on.between(start, end), Review.participation.is_not(None))
             .order_by(Child.ref, Review.held_on))
    return [[ref, f"{dob:%d/%m/%Y}", f"{held:%d/%m/%Y}", code or ""]
            for ref, dob, held, code in session.execute(query)]


def to_csv(rows: list[list[str]], source: str) -> str:
    """The CSV text, or ImportRowError (exit 2) listing each rule a row breaks."""
    checked = [Row(source, n, dict(zip(REVIEWS, r, strict=True))) for n, r in
               enumerate(rows, start=2)]
    dobs = {row["CHILD"]: dt.datetime.strptime(row["DOB"], "%d/%m/%Y").date() for row in checked}
    raise_findings(check_reviews(checked, dobs),
                   "nothing was written: correct the reviews and export again")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REVIEWS)
    writer.writerows(safe_values(r) for r in rows)
    return out.getvalue()
