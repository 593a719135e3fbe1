"""Appendix A of the annual report (pure): return rates by role, then one table per role with
the count of each answer to each question, beside last year's where a survey ran then.

Laid out as the 2013-14 report's tables A-C: "Table A: Foster carers' feedback", each question
followed by its answers and how many gave them.
"""

from __future__ import annotations

from workers.report.table import Cell, Table
from workers.survey.counts import SurveyResults

LETTERS = "ABCDEFGH"


def appendix_tables(results: SurveyResults) -> list[Table]:
    rates = Table(
        "survey_returns", f"Appendix A: stakeholder questionnaire returns {results.name}",
        ("Role", "Asked", "Returned", "Return rate"),
        tuple((r.title, r.asked, r.returned, r.rate) for r in results.roles),
        note="Answers are anonymous: the service records that a person replied, and keeps "
             "what was answered apart from who answered.",
    )
    tables = [rates]
    for letter, role in zip(LETTERS, results.roles, strict=False):
        last = results.last_name
        headers: tuple[str, ...] = ("Question and answer", results.name)
        if last:
            headers += (last,)
        blank: tuple[Cell, ...] = ("",) * (len(headers) - 1)
        rows: list[tuple[Cell, ...]] = []
        for n, q in enumerate(role.questions, start=1):
            rows.append((f"{n}. {q.text}", *blank))  # the question, then its answers
            for answer in q.answers:
                # each answer row names itself ("Q1 Always"): csv and json rows are keyed by it
                row: tuple[Cell, ...] = (f"{q.key} {answer}", q.counts.get(answer, 0))
                if last:
                    row += (q.last_year.get(answer, 0) if q.last_year is not None else None,)
                rows.append(row)
        title = f"Table {letter}: {_possessive(role.title)} feedback"
        tables.append(Table(f"survey_{role.role}", title,
                            headers, tuple(rows),
                            note=f"{role.rate} returned. Counts of each answer; a question "
                                 "left blank is not counted."))
    return tables


def _possessive(title: str) -> str:
    return f"{title}'" if title.endswith("s") else f"{title}'s"
