"""The quarterly escalation report the IRO manager takes to the senior management team.

Annual report 2013-14 §8.1: escalations are reported quarterly, with themes and examples. Pure:
built from ``EscalationFact`` rows (no names, no concern or outcome text), so nothing in it can
identify a child. Quarters are the council's reporting year's (Q1 is April to June), as the
annual report's year runs 1 April to 31 March.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from workers.errors import BadInputError
from workers.report.figures import Period
from workers.report.tables import Cell, Table

EXAMPLES = 6  # enough to show the kinds of concern; the manager picks from them


@dataclass(frozen=True)
class Quarter:
    """Quarter ``number`` (1-4) of the reporting year that starts on 1 April ``year``."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str, name: str = "--quarter") -> Quarter:
        found = re.fullmatch(r"(\d{4})-Q([1-4])", text.strip(), flags=re.IGNORECASE)
        if not found or not 2000 <= int(found[1]) <= 2099:
            raise BadInputError(
                f"{name}: expected a quarter of a reporting year like 2026-Q3 (October to December"
                f" 2026; Q1 is April to June), got {text!r}"
            )
        return cls(int(found[1]), int(found[2]))

    @property
    def period(self) -> Period:
        month = 4 + 3 * (self.number - 1)
        start = dt.date(self.year + month // 13, (month - 1) % 12 + 1, 1)
        following = self.following.period.start if self.number < 4 else dt.date(self.year + 1, 4, 1)
        return Period(start, following - dt.timedelta(days=1))

    @property
    def following(self) -> Quarter:
        return Quarter(self.year, self.number + 1) if self.number < 4 else Quarter(self.year + 1, 1)

    @property
    def previous(self) -> Quarter:
        return Quarter(self.year, self.number - 1) if self.number > 1 else Quarter(self.year - 1, 4)

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}/{str(self.year + 1)[2:]}"

    @property
    def long_label(self) -> str:
        p = self.period
        return f"{self.label} ({p.start:%-d %B} to {p.end:%-d %B %Y})"


@dataclass(frozen=True)
class EscalationFact:
    """One escalation as the report sees it: dates, stages and category only."""

    child: int  # the store's id, to count children; never shown
    category: str
    raised_on: dt.date
    raised_stage: str  # the stage it was raised at (the IRO may start past the informal stage)
    resolved_on: dt.date | None
    resolved_stage: str | None
    stage: str  # where it stands now
    cafcass_referred_on: dt.date | None
    ceiling_on: dt.date  # the last day within the total ceiling (20 working days as shipped)
    working_days: int  # raised to resolution, or to the quarter's end while open


@dataclass(frozen=True)
class QuarterFigures:
    quarter: Quarter
    raised: int
    children_raised: int
    raised_past_first_stage: int
    resolved: int
    resolved_within_ceiling: int
    resolved_by_stage: Mapping[str, int]
    open_at_end: int
    open_past_ceiling: int
    cafcass_referred: int
    themes: Mapping[str, tuple[int, int, int]]  # category: raised, resolved, open at the end


@dataclass(frozen=True)
class MidwayFact:
    """One midway check (annual report §7.3): when due, and what the IRO found."""

    due_on: dt.date
    checked_on: dt.date | None
    concern: bool
    escalated: bool


@dataclass(frozen=True)
class MidwayFigures:
    quarter: Quarter
    due: int
    done: int
    done_by_due_date: int
    concerns: int
    escalated: int
    overdue_at_end: int


def midway_figures(facts: Iterable[MidwayFact], quarter: Quarter) -> MidwayFigures:
    period = quarter.period
    facts = list(facts)
    done = [f for f in facts if _within(f.checked_on, period)]
    return MidwayFigures(
        quarter=quarter,
        due=sum(_within(f.due_on, period) for f in facts),
        done=len(done),
        done_by_due_date=sum(f.checked_on is not None and f.checked_on <= f.due_on for f in done),
        concerns=sum(f.concern for f in done),
        escalated=sum(f.escalated for f in done),
        overdue_at_end=sum(f.due_on < period.end and (f.checked_on is None
                                                      or f.checked_on > period.end)
                           for f in facts),
    )


def midway_table(this: MidwayFigures, before: MidwayFigures) -> Table:
    def row(label: str, pick: str) -> tuple[Cell, ...]:
        return (label, getattr(this, pick), getattr(before, pick))

    return Table("quarter_midway", "Midway checks between reviews",
                 ("", this.quarter.label, before.quarter.label), (
                     row("Falling due in the quarter", "due"),
                     row("Done in the quarter", "done"),
                     row("… by their due date", "done_by_due_date"),
                     row("… finding a concern", "concerns"),
                     row("… escalated at once", "escalated"),
                     row("Overdue at the end of the quarter", "overdue_at_end"),
                 ), note="Annual report 2013-14 §7.3: between reviews the IRO checks that the "
                         "review's decisions are being carried out (rules.yaml midway).")


def _within(day: dt.date | None, period: Period) -> bool:
    return day is not None and period.start <= day <= period.end


def figures(facts: Iterable[EscalationFact], quarter: Quarter, first_stage: str) -> QuarterFigures:
    period = quarter.period
    facts = list(facts)
    raised = [f for f in facts if _within(f.raised_on, period)]
    resolved = [f for f in facts if _within(f.resolved_on, period)]
    still_open = [f for f in facts if f.raised_on <= period.end
                  and (f.resolved_on is None or f.resolved_on > period.end)]
    themes: dict[str, tuple[int, int, int]] = {}
    for key in sorted({f.category for f in raised + resolved + still_open}):
        themes[key] = (sum(f.category == key for f in raised),
                       sum(f.category == key for f in resolved),
                       sum(f.category == key for f in still_open))
    return QuarterFigures(
        quarter=quarter,
        raised=len(raised),
        children_raised=len({f.child for f in raised}),
        raised_past_first_stage=sum(f.raised_stage != first_stage for f in raised),
        resolved=len(resolved),
        resolved_within_ceiling=sum(f.resolved_on is not None and f.resolved_on <= f.ceiling_on
                                    for f in resolved),
        resolved_by_stage=dict(Counter(f.resolved_stage or f.stage for f in resolved)),
        open_at_end=len(still_open),
        open_past_ceiling=sum(f.ceiling_on < period.end for f in still_open),
        cafcass_referred=sum(_within(f.cafcass_referred_on, period) for f in facts),
        themes=themes,
    )


def examples(facts: Iterable[EscalationFact], quarter: Quarter) -> list[EscalationFact]:
    """Escalations resolved in the quarter, the latest first, then those still open longest."""
    period = quarter.period
    facts = list(facts)
    done = sorted((f for f in facts if _within(f.resolved_on, period)),
                  key=lambda f: (f.resolved_on, f.raised_on), reverse=True)
    waiting = sorted((f for f in facts if f.raised_on <= period.end
                      and (f.resolved_on is None or f.resolved_on > period.end)),
                     key=lambda f: f.raised_on)
    return (done + waiting)[:EXAMPLES]


def tables(
    this: QuarterFigures,
    before: QuarterFigures,
    shown: Sequence[EscalationFact],
    *,
    stages: Sequence[tuple[str, str]],
    categories: Mapping[str, str],
    ceiling_days: str,
) -> list[Table]:
    """The report's tables, this quarter beside the one before. ``stages`` are (key, title) in
    the order of the procedure; ``categories`` key to title (rules.yaml)."""
    stage_title = dict(stages)
    heads = ("", this.quarter.label, before.quarter.label)

    def row(label: str, pick: str) -> tuple[Cell, ...]:
        return (label, getattr(this, pick), getattr(before, pick))

    summary = Table("quarter_escalations", "Escalations in the quarter", heads, (
        row("Escalations raised", "raised"),
        row("Children whose cases were escalated", "children_raised"),
        row("Raised straight at a formal stage", "raised_past_first_stage"),
        row("Escalations resolved", "resolved"),
        row(f"Resolved within {ceiling_days}", "resolved_within_ceiling"),
        row("Open at the end of the quarter", "open_at_end"),
        row(f"Open at the end and past {ceiling_days}", "open_past_ceiling"),
        row("Referred to CAFCASS", "cafcass_referred"),
    ), note="IRO Handbook 2010, dispute resolution: each stage answers within its "
            f"timescale and the whole within {ceiling_days}.")
    order = [key for key, _title in stages]
    order += sorted((set(this.resolved_by_stage) | set(before.resolved_by_stage)) - set(order))
    by_stage = Table("quarter_resolved_by_stage", "Escalations resolved, by the stage at which "
                     "they were resolved", ("Stage", *heads[1:]), tuple(
                         (stage_title.get(key, key), this.resolved_by_stage.get(key, 0),
                          before.resolved_by_stage.get(key, 0)) for key in order))
    theme_rows: list[tuple[Cell, ...]] = [
        (categories.get(key, key), *counts) for key, counts in this.themes.items()
    ]
    themes = Table("quarter_themes", f"Themes in {this.quarter.label}",
                   ("Concern", "Raised", "Resolved", "Open at the end"), tuple(theme_rows),
                   note="The concerns are rules.yaml's escalation categories.")
    example_rows: list[tuple[Cell, ...]] = []
    for fact in shown:
        if fact.resolved_on is not None and fact.resolved_on <= this.quarter.period.end:
            stage = fact.resolved_stage or fact.stage
            outcome = f"Resolved: {stage_title.get(stage, stage)}"
        else:
            outcome = f"Still open: {stage_title.get(fact.stage, fact.stage)}"
        example_rows.append((categories.get(fact.category, fact.category),
                             stage_title.get(fact.raised_stage, fact.raised_stage),
                             outcome, fact.working_days))
    example = Table("quarter_examples", "Examples", (
        "Concern", "Raised at", "Outcome", "Working days"), tuple(example_rows),
        note="No child is named: the concern's category, the stages and the time taken.")
    return [summary, by_stage, themes, example]
