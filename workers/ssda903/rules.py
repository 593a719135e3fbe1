"""The 903 review rules run at import and before export: each finding names file, line and rule.

From the DfE's SSDA903 validation rules (numbers as the DfE and the open validators use them):
  166    REVIEW is not a valid date
  167    REVIEW_CODE is not PN0–PN7 when REVIEW is present
  440    PN0 (child under 4) used on or after the child's 4th birthday
  441    PN1–PN7 (child 4 or over) used before the child's 4th birthday
  INT08  a child in Reviews is not in Header
  INT17  the DOB in Reviews differs from the DOB in Header
Pure: rows in, findings out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from workers.errors import ImportRowError
from workers.ssda903.tables import Row, parse_date

CODES = tuple(f"PN{n}" for n in range(8))
MAX_LISTED = 200


@dataclass(frozen=True)
class Finding:
    source: str
    line: int
    rule: str  # "" for a field that is not a date, a child twice, a missing table
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        rule = f"rule {self.rule}: " if self.rule else ""
        return f"{self.source}: {where}: {rule}{self.message}"


def age_on(dob: dt.date, day: dt.date) -> int:
    """Whole years: a child born on 29 February turns 4 on 1 March in a common year."""
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def check_reviews(reviews: Iterable[Row], header_dob: Mapping[str, dt.date | None]
                  ) -> list[Finding]:
    """Every rule finding for the Reviews rows (``header_dob``: CHILD → DOB from Header)."""
    found: list[Finding] = []
    for row in reviews:
        def add(rule: str, message: str, row: Row = row) -> None:
            found.append(Finding(row.source, row.line, rule, message))

        child, code, review_text = row["CHILD"], row["REVIEW_CODE"].upper(), row["REVIEW"]
        if child not in header_dob:
            add("INT08", f"child {child} is in Reviews but not in Header")
        dob = _date(row["DOB"])
        known = header_dob.get(child)
        if known is not None and dob is not None and dob != known:
            add("INT17", f"DOB {row['DOB']} differs from the Header's {known:%d/%m/%Y} "
                         f"for child {child}")
        review = _date(review_text)
        if review_text and review is None:
            add("166", f"REVIEW {review_text!r} is not a valid date (dd/mm/yyyy)")
        if review_text and code not in CODES:
            add("167", f"REVIEW_CODE {row['REVIEW_CODE']!r} is not one of PN0-PN7")
        birth = known or dob
        if review is None or birth is None or code not in CODES:
            continue
        if code == "PN0" and age_on(birth, review) >= 4:
            add("440", f"PN0 (under 4) used on {review_text}, on or after child {child}'s "
                       "4th birthday")
        if code != "PN0" and age_on(birth, review) < 4:
            add("441", f"{code} used on {review_text}, before child {child}'s 4th birthday "
                       "(use PN0)")
    return found


def raise_findings(findings: Sequence[Finding], doing: str = "nothing was imported") -> None:
    if not findings:
        return
    ordered = sorted(findings, key=lambda f: (f.source, f.line, f.rule))
    listed = [f"  {f}" for f in ordered[:MAX_LISTED]]
    if len(ordered) > MAX_LISTED:
        listed.append(f"  … and {len(ordered) - MAX_LISTED} more")
    count = f"{len(ordered)} error" + ("s" if len(ordered) > 1 else "")
    raise ImportRowError(f"903: {count}; {doing}:\n" + "\n".join(listed))


def _date(text: str) -> dt.date | None:
    try:
        return parse_date(text) if text else None
    except ValueError:
        return None
