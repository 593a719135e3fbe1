"""A year of fictional, deterministic data whose annual-report figures are known by construction.

``Synthetic(spec).tables()`` yields each table's rows lazily (so a million reviews never sit in
memory) while it tallies, in plain Python counters, the figures the report must show; after the
rows are consumed ``expected()`` returns them as the report's own dataclasses. ``load`` writes
the rows fast: PostgreSQL by COPY, SQLite by executemany in chunks. Patterns are arithmetic on
the row number, so every figure can also be worked out by hand for small sizes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from workers.report.figures import (
    NOT_RECORDED,
    AnnualReport,
    Period,
)
from workers.store.models import Base

D = dt.timedelta
CODES = ("PN0", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7", "PN1", None)
ADULTS = ("parent", "carer", "social_worker", "guardian")
RETURN_EVERY = {"parent": 2, "carer": 5, "social_worker": 3, "guardian": 8}
STAGE_BY_TENTH = ("deputy_manager",) * 7 + ("group_manager",) * 2 + ("head_of_service",)

Row = tuple[Any, ...]
TableRows = tuple[str, tuple[str, ...], Iterator[Row]]


@dataclass(frozen=True)
class Spec:
    start: dt.date = dt.date(2025, 4, 1)
    children: int = 300
    reviews: int = 850  # held in the year; a tenth more held the year before, a twentieth planned
    iros: int = 5

    @property
    def period(self) -> Period:
        return Period(self.start, self.start.replace(year=self.start.year + 1) - D(days=1))


@dataclass
class _Tally:
    in_care: list[int] = field(default_factory=list)  # day-by-day difference array
    admissions: int = 0
    leavers: int = 0
    per_iro_month: Counter[tuple[str, int, int]] = field(default_factory=Counter)
    timescale_known: int = 0
    in_timescale: int = 0
    records: int = 0
    recorded: int = 0
    within: int = 0
    days_sum: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)  # (form|questionnaire, role)
    returned: Counter[tuple[str, str]] = field(default_factory=Counter)
    escalated: dict[int, set[int]] = field(default_factory=dict)  # year back → children
    resolved: dict[int, Counter[str]] = field(default_factory=dict)
    referred: Counter[int] = field(default_factory=Counter)
    still_open: Counter[int] = field(default_factory=Counter)


class Synthetic:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.period = spec.period
        self.days = (self.period.end - self.period.start).days + 1
        self.t = _Tally(in_care=[0] * (self.days + 1))
        # filled by dispatches(), read by returns()
        self.returns_due: list[tuple[int, dt.date]] = []

    # -- children and escalations -------------------------------------------------------------
    def iro(self, child: int) -> str:
        return f"iro{child % self.spec.iros + 1:02d}@council.example.gov.uk"

    def _episode(self, i: int) -> tuple[dt.date, dt.date | None]:
        s = self.period.start
        admitted = s + D(days=1 + (i * 7) % (self.days - 1))
        since = admitted if i % 5 == 0 else s - D(days=30 + i % 700)
        ceased: dt.date | None = None
        if i % 6 == 3:
            ceased = max(since, s) + D(days=1 + (i * 13) % (self.days - 1))
        elif i % 6 == 5 and since < s:
            ceased = s - D(days=1 + i % 20)
        return since, ceased

    def children(self) -> Iterator[Row]:
        p, t = self.period, self.t
        for i in range(self.spec.children):
            since, ceased = self._episode(i)
            lo = max(0, (since - p.start).days)
            hi = self.days if ceased is None else min(self.days, (ceased - p.start).days)
            if since <= p.end and hi > lo:
                t.in_care[lo] += 1
                t.in_care[hi] -= 1
            t.admissions += p.start <= since <= p.end
            t.leavers += ceased is not None and p.start <= ceased <= p.end
            dob = p.start - D(days=365 * (1 + i % 17) + i % 300)
            yield (i + 1, f"C-{i + 1:07d}", "Synthetic", "Child", dob, since, ceased, "north",
                   self.iro(i), "", "")

    def escalations(self) -> Iterator[Row]:
        n = 0
        for i in range(self.spec.children):
            for back, every, offset in ((0, 8, 0), (1, 16, 4), (2, 32, 12)):
                if i % every != offset:
                    continue
                period = self.period.years_back(back)
                raised = period.start + D(days=(i * 3) % 360)
                is_open = back == 0 and i % 64 == 0
                stage = "deputy_manager" if back else STAGE_BY_TENTH[(i // 8) % 10]
                referred = raised + D(days=10) if back == 0 and i % 80 == 0 else None
                self.t.escalated.setdefault(back, set()).add(i + 1)
                if is_open:
                    self.t.still_open[back] += 1
                else:
                    self.t.resolved.setdefault(back, Counter())[stage] += 1
                self.t.referred[back] += referred is not None
                # a child escalated twice in a year counts once
                copies = 2 if back == 0 and i % 40 == 0 else 1
                for _ in range(copies):
                    n += 1
                    yield (n, i + 1, None, self.iro(i), "other", "synthetic", stage,
                           "open" if is_open else "resolved", raised, raised, None, referred,
                           None if is_open else raised + D(days=5),
                           None if is_open else stage, None, None)

    # -- reviews, deadlines, participants, dispatches, returns ----------------------------------
    def _reviews_plan(self) -> Iterator[tuple[int, int, dt.date | None, bool]]:
        """(review id, j, held_on, in the period) for every review."""
        n, s = self.spec.reviews, self.period.start
        for j in range(n):
            yield j + 1, j, s + D(days=(j * self.days) // n), True
        for j in range(n // 10):
            yield n + j + 1, j, s - D(days=1 + j % 300), False
        for j in range(n // 20):
            yield n + n // 10 + j + 1, j, None, False

    def reviews(self) -> Iterator[Row]:
        t = self.t
        for rid, j, held, counted in self._reviews_plan():
            child = j % self.spec.children
            code = CODES[j % 10] if held else None
            on_time = None if j % 97 == 5 or not held else j % 31 != 0
            if counted and held:
                t.per_iro_month[(self.iro(child), held.year, held.month)] += 1
                t.timescale_known += on_time is not None
                t.in_timescale += on_time is True
                t.codes[code or NOT_RECORDED] += 1
            met = held is not None and j % 13 != 0
            status = "planned" if held is None else "recorded" if met else "held"
            due = held or self.period.end + D(days=30)
            yield (rid, f"R-{rid:08d}", child + 1, 2, due, self._meeting(j, held), "",
                   self.iro(child), status,
                   False, held, code, on_time, None if on_time is None else (0 if on_time else 3),
                   None, None)

    @staticmethod
    def _meeting(j: int, held: dt.date | None) -> dt.datetime | None:
        """Half the meetings are scheduled at 00:30 London time: the previous day in UTC in
        summer, so a report counting UTC dates would put the first of April in March."""
        if held is None or j % 2:
            return None
        return dt.datetime.combine(held, dt.time(0, 30), ZoneInfo("Europe/London"))

    def deadlines(self) -> Iterator[Row]:
        n = 0
        for rid, j, held, counted in self._reviews_plan():
            if held is None:
                continue
            taken = 8 + j % 12
            met = j % 13 != 0
            if counted:
                self.t.records += 1
                self.t.recorded += met
                self.t.within += met and taken <= 15
                self.t.days_sum += taken if met else 0
            n += 1
            yield (n, f"R-{rid:08d}/writeup/record", "record", rid, None, held, held + D(days=21),
                   False, held + D(days=taken * 7 // 5) if met else None,
                   taken if met else None, (taken <= 15) if met else None)
            if j % 2 == 0:  # decisions deadlines exist too and must not be counted
                n += 1
                yield (n, f"R-{rid:08d}/writeup/decisions", "decisions", rid, None, held,
                       held + D(days=7), False, held + D(days=3), 3, True)

    def _people(self) -> Iterator[tuple[int, int, dt.date, bool, str, str, bool]]:
        """(review id, j, held_on, in the period, role, dispatch kind, returned) per form sent."""
        for rid, j, held, counted in self._reviews_plan():
            if held is None:
                continue
            adult = ADULTS[j % 4]
            yield rid, j, held, counted, "child", "mailout_invitation", j % 3 == 0
            yield (rid, j, held, counted, adult, "mailout_invitation",
                   (j // 4) % RETURN_EVERY[adult] == 0)

    def participants(self) -> Iterator[Row]:
        for pid, (rid, _j, _held, _in, role, _kind, _ret) in enumerate(self._people(), start=1):
            yield (pid, rid, f"P-{pid:08d}", role, "Synthetic Person", "", "", None, False, None,
                   None, "post", None)

    def dispatches(self) -> Iterator[Row]:
        p, t, n = self.period, self.t, 0
        for pid, person in enumerate(self._people(), start=1):
            rid, j, held, meets_in_period, role, kind, returned = person
            sent_on = held - D(days=10)
            bounced = role != "child" and j % 17 == 0
            # forms count by the review's meeting day, questionnaires by the day they went
            sent_in_period = p.start <= sent_on <= p.end
            sent_at = dt.datetime.combine(sent_on, dt.time(9), dt.UTC)
            n += 1
            if meets_in_period and not bounced:
                t.sent[("form", role)] += 1
                t.returned[("form", role)] += returned
            if returned and not bounced:
                self.returns_due.append((n, sent_on + D(days=5)))
            yield self._dispatch(n, rid, pid, kind, "bounced" if bounced else "sent", sent_at,
                                 f"F{n:09d}")
            if role != "child" and j % 7 == 0:  # reminders carry no form
                n += 1
                yield self._dispatch(n, rid, pid, "reminder", "sent", sent_at, None)
            if role != "child" and j % 50 == 0:
                n += 1
                if sent_in_period:
                    t.sent[("questionnaire", role)] += 1
                    t.returned[("questionnaire", role)] += j % 100 == 0
                if j % 100 == 0:
                    self.returns_due.append((n, sent_on + D(days=5)))
                yield self._dispatch(n, rid, pid, "questionnaire_stakeholder", "sent", sent_at,
                                     None)

    @staticmethod
    def _dispatch(n: int, rid: int, pid: int, kind: str, state: str, at: dt.datetime,
                  code: str | None) -> Row:
        return (n, f"D-{n:09d}", kind, "post", state, rid, pid, None, "post", code, at, 1, None,
                at, None, None, None, "{}")

    def returns(self) -> Iterator[Row]:
        for n, (dispatch_id, on) in enumerate(self.returns_due, start=1):
            yield (n, dispatch_id, on, "post", None, None)

    def tables(self) -> Iterator[TableRows]:
        """Each table's name, columns and rows, parents before children."""
        cols = _columns()
        yield "children", cols["children"], self.children()
        yield "reviews", cols["reviews"], self.reviews()
        yield "deadlines", cols["deadlines"], self.deadlines()
        yield "participants", cols["participants"], self.participants()
        yield "dispatches", cols["dispatches"], self.dispatches()
        yield "returns", cols["returns"], self.returns()
        yield "escalations", cols["escalations"], self.escalations()

    def expected(self) -> AnnualReport:
        """The figures the report must show; call after every table's rows were consumed."""
        from benchmarks.synthetic_expected import expected_report

        return expected_report(self)


def _columns() -> dict[str, tuple[str, ...]]:
    names = {
        "children": "id ref given_name family_name date_of_birth looked_after_since ceased_on "
        "team iro_email placement legal_status",
        "reviews": "id ref child_id sequence due_on scheduled_at venue iro_email status "
        "requested_early held_on participation in_timescale days_late decisions_sent_on "
        "recorded_on",
        "deadlines": "id key kind review_id escalation_id started_on due_on statutory met_on "
        "working_days_taken in_time",
        "participants": "id review_id ref role name organisation relationship_to_child email "
        "email_confirmed address postcode channel attended",
        "dispatches": "id key kind channel state review_id participant_id escalation_id "
        "recipient reference_code due_at attempts claimed_at sent_at message_id last_error "
        "print_batch_id params",
        "returns": "id dispatch_id received_on channel source_message_id file_path",
        "escalations": "id child_id review_id iro_email category concern stage status raised_on "
        "stage_started_on response_due_on cafcass_referred_on resolved_on resolved_stage "
        "resolved_by outcome",
    }
    return {table: tuple(value.split()) for table, value in names.items()}


def load(session: Session, spec: Spec, chunk: int = 5000) -> Synthetic:
    """Write the synthetic year into an empty, migrated store; the caller commits."""
    data = Synthetic(spec)
    postgres = session.get_bind().dialect.name == "postgresql"
    for table, columns, rows in data.tables():
        if postgres:
            _copy(session, table, columns, rows)
        else:
            _executemany(session, table, columns, rows, chunk)
    if postgres:
        for table in _columns():
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            ))
    return data


def _copy(session: Session, table: str, columns: tuple[str, ...], rows: Iterator[Row]) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


def _executemany(session: Session, table: str, columns: tuple[str, ...],
                 rows: Iterator[Row], chunk: int) -> None:
    target = Base.metadata.tables[table]
    batch: list[dict[str, Any]] = []
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        if "params" in values:
            values["params"] = {}
        batch.append(values)
        if len(batch) >= chunk:
            session.execute(insert(target), batch)
            batch = []
    if batch:
        session.execute(insert(target), batch)

