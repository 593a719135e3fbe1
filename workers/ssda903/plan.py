"""Header, Episodes and Reviews tables → what the store gets for each child. Pure.

* A period of care starts with an episode whose RNE is ``S`` and ends on the DEC of its last
  episode; a child whose first episode in the extract is not ``S`` has been looked after since
  before it (the period's start is then the first DECOM or review seen, whichever is earlier, and
  reviews are numbered from 2, since at least the first was held before the extract).
* Short breaks (LS ``V3``/``V4``) are not a period of care for reg 33: a child with only those is
  not tracked, and such episodes never start or extend a period.
* Each review in a period is numbered in date order; its statutory date is reg 33's
  (``planning.statutory_due_date``: the first within 20 working days of the start, the second
  within 3 months of the first, then 6-monthly from the previous one).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace

from workers.core.planning import PlanningCalendar, ReviewTimescalesLike, statutory_due_date
from workers.ssda903.rules import Finding, check_reviews, raise_findings
from workers.ssda903.tables import Row, Table, parse_date

SHORT_BREAKS = frozenset({"V3", "V4"})  # 903 legal status: short-term breaks (respite)


@dataclass(frozen=True)
class Period:
    started_on: dt.date
    ended_on: dt.date | None
    reason_ended: str
    start_known: bool  # False: the RNE=S episode is before the extract


@dataclass(frozen=True)
class PastReview:
    held_on: dt.date
    code: str  # PN0..PN7
    sequence: int  # within its period of care
    due_on: dt.date  # reg 33's latest date (the held date when it cannot be known)


@dataclass(frozen=True)
class ChildPlan:
    ref: str
    date_of_birth: dt.date
    periods: tuple[Period, ...]
    reviews: tuple[PastReview, ...]

    @property
    def current(self) -> Period:
        return self.periods[-1]


@dataclass(frozen=True)
class Extract:
    children: dict[str, ChildPlan]
    short_breaks_only: tuple[str, ...]  # not tracked for reg 33
    rows: int


def build(tables: list[Table], timescales: ReviewTimescalesLike,
          calendar: PlanningCalendar) -> Extract:
    """Check every rule and field, all at once; raise ImportRowError or return the plan."""
    by_name: dict[str, list[Row]] = defaultdict(list)
    for table in tables:
        by_name[table.name].extend(table.rows)
    findings: list[Finding] = []
    missing = [n for n in ("Header", "Episodes", "Reviews") if n not in by_name]
    if missing:
        findings.append(Finding("903", 1, "", "no " + " or ".join(missing) + " table among "
                                "the files given; give all three (recognised by their columns)"))
        raise_findings(findings)  # cross-table checks would only repeat it for every row
    dobs = _header(by_name["Header"], findings)
    episodes = _episodes(by_name["Episodes"], dobs, findings)
    findings += check_reviews(by_name["Reviews"], dobs)
    raise_findings(findings)
    reviews: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for row in by_name["Reviews"]:
        if row["REVIEW"]:
            reviews[row["CHILD"]].append((parse_date(row["REVIEW"]), row["REVIEW_CODE"].upper()))
    children: dict[str, ChildPlan] = {}
    short: list[str] = []
    for ref, dob in dobs.items():
        eps = episodes.get(ref, [])
        if dob is None or not eps:
            continue
        periods = _periods(eps)
        if not periods:
            short.append(ref)
            continue
        seen = sorted(set(reviews.get(ref, [])))
        if seen and not periods[0].start_known and seen[0][0] < periods[0].started_on:
            # looked after since at least its earliest review: reg 33 counts the later reviews
            # from it, and deadlines count only reviews on or after a period's start
            periods[0] = replace(periods[0], started_on=seen[0][0])
        past = _reviews(seen, periods, timescales, calendar)
        children[ref] = ChildPlan(ref, dob, tuple(periods), tuple(past))
    return Extract(children, tuple(sorted(short)), sum(len(r) for r in by_name.values()))


def _header(rows: list[Row], findings: list[Finding]) -> dict[str, dt.date | None]:
    dobs: dict[str, dt.date | None] = {}
    first: dict[str, int] = {}
    for row in rows:
        child = row["CHILD"]
        if child in first:
            findings.append(_field(row, "CHILD", f"child {child} is in Header twice "
                                                 f"(first on line {first[child]})"))
            continue
        first[child] = row.line
        dobs[child] = _parsed(row, "DOB", findings, required=True)
    return dobs


_Episode = tuple[dt.date, str, str, dt.date | None, str]  # DECOM, RNE, LS, DEC, REC


def _episodes(rows: list[Row], dobs: dict[str, dt.date | None],
              findings: list[Finding]) -> dict[str, list[_Episode]]:
    out: dict[str, list[_Episode]] = defaultdict(list)
    for row in rows:
        start = _parsed(row, "DECOM", findings, required=True)
        end = _parsed(row, "DEC", findings)
        if row["CHILD"] not in dobs:
            findings.append(_field(row, "CHILD", f"child {row['CHILD']} is in Episodes but not "
                                                 "in Header"))
        if start and end and end < start:
            findings.append(_field(row, "DEC", "is before DECOM"))
        if start:
            out[row["CHILD"]].append((start, row["RNE"].upper(), row["LS"].upper(), end,
                                      row["REC"].upper()))
    return out


def _periods(episodes: list[_Episode]) -> list[Period]:
    periods: list[Period] = []
    start: tuple[dt.date, bool] | None = None
    last: _Episode | None = None
    for ep in sorted(e for e in episodes if e[2] not in SHORT_BREAKS):
        if start is None or ep[1] == "S":
            if start is not None and last is not None:
                periods.append(Period(start[0], last[3] or ep[0], last[4], start[1]))
            start = (ep[0], ep[1] == "S")
        last = ep
    if start is not None and last is not None:
        periods.append(Period(start[0], last[3], last[4] if last[3] else "", start[1]))
    return periods


def _reviews(held: list[tuple[dt.date, str]], periods: list[Period],
             timescales: ReviewTimescalesLike, calendar: PlanningCalendar) -> list[PastReview]:
    out: list[PastReview] = []
    for i, period in enumerate(periods):
        # a period that began before the extract also owns the reviews seen before its first
        # episode in the extract
        since = dt.date.min if i == 0 and not period.start_known else period.started_on
        inside = [(d, c) for d, c in held
                  if d >= since and (period.ended_on is None or d <= period.ended_on)]
        previous: dt.date | None = None
        for n, (day, code) in enumerate(inside, start=1 if period.start_known else 2):
            if period.start_known or previous is not None:
                due = statutory_due_date(timescales, calendar,
                                         looked_after_since=period.started_on, sequence=n,
                                         previous_review_on=previous)
            else:
                due = day  # the review before it is outside the extract
            out.append(PastReview(day, code, n, due))
            previous = day
    return out


def _parsed(row: Row, column: str, findings: list[Finding], required: bool = False
            ) -> dt.date | None:
    text = row[column]
    if not text:
        if required:
            findings.append(_field(row, column, "is empty"))
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        findings.append(_field(row, column, str(exc)))
        return None


def _field(row: Row, column: str, reason: str) -> Finding:
    return Finding(row.source, row.line, "", reason, column)
