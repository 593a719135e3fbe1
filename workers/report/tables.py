"""The annual report as titled tables: one shape every output format (rich, csv, json, docx) reads.

Pure. Cells hold numbers (int, float) or text; ``None`` means "no figure" (nothing to divide by).
Rows and wording follow the 2013–14 annual report the manager writes (``docs`` of the service):
the escalations table puts earlier years beside the current one, oldest first.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping

from workers.documents.filters import uk_date
from workers.report.figures import (
    NOT_RECORDED,
    AnnualReport,
    ReturnRate,
    Reviews,
)
from workers.report.table import Cell, Table


def stage_name(key: str) -> str:
    return "CAFCASS" if key == "cafcass" else key.replace("_", " ").capitalize()


def month_name(year: int, month: int) -> str:
    return f"{calendar.month_abbr[month]} {year}"


def _population(r: AnnualReport) -> Table:
    p = r.population
    return Table("population", "Looked after children", ("", "Children"), (
        ("Fewest on any day", p.fewest),
        ("Most on any day", p.most),
        (f"At the start ({r.period.start:%d %b %Y})", p.at_start),
        (f"At the end ({r.period.end:%d %b %Y})", p.at_end),
        ("Admissions into care", p.admissions),
        ("Left care", p.leavers),
    ))


def _reviews(r: AnnualReport) -> Table:
    v = r.reviews
    return Table("reviews", "Reviews held", ("", "Figure"), (
        ("Reviews held", v.held),
        ("Held within statutory timescales", v.in_timescale),
        ("% within statutory timescales", v.in_timescale_pct),
        ("IROs chairing reviews", len(v.iros)),
        ("Average reviews per IRO per month", v.average_per_iro_month),
    ), note="Timescales: Care Planning, Placement and Case Review (England) Regulations 2010, "
             "reg 33. The % is of reviews whose timeliness was recorded.")


def _by_month(v: Reviews) -> Table:
    totals: dict[tuple[int, int], int] = {}
    iros: dict[tuple[int, int], int] = {}
    for m in v.per_iro_month:
        totals[(m.year, m.month)] = totals.get((m.year, m.month), 0) + m.reviews
        iros[(m.year, m.month)] = iros.get((m.year, m.month), 0) + 1
    everyone = len(v.iros)  # the plain rate: an IRO who chaired none that month counts
    rows = tuple(
        (month_name(*ym), totals.get(ym, 0), iros.get(ym, 0),
         round(totals.get(ym, 0) / everyone, 2) if everyone else None)
        for ym in v.months
    )
    return Table("reviews_by_month", "Reviews per month",
                 ("Month", "Reviews held", "IROs chairing", "Average per IRO"), rows,
                 note=f"Average per IRO: the month's reviews over all {everyone} IROs who chaired "
                      "a review in the period.")


def _by_iro(v: Reviews, names: Mapping[str, str]) -> Table:
    """IRO by month, as the annual report's figure shows it, with each IRO's total and average
    over every month of the period (a month they chaired none counts as 0)."""
    counts = {(m.iro, m.year, m.month): m.reviews for m in v.per_iro_month}
    rows: list[tuple[Cell, ...]] = []
    for iro in sorted(v.iros, key=lambda e: (names.get(e, e).lower(), e)):
        held = [counts.get((iro, y, m), 0) for y, m in v.months]
        rows.append((names.get(iro, iro), *held, sum(held), round(sum(held) / len(held), 2)))
    headers = ("IRO", *(month_name(y, m) for y, m in v.months), "Total", "Average a month")
    return Table("reviews_by_iro", "Reviews per IRO per month", headers, tuple(rows))


def _write_up(r: AnnualReport) -> Table:
    w = r.write_up
    return Table("write_up", "Review records written up", ("", "Figure"), (
        ("Reviews held with a record due", w.reviews),
        ("Records written up", w.recorded),
        ("Not yet written up", w.outstanding),
        ("Average working days to write up", w.average_working_days),
        (f"Written up within {w.standard_days} working days", w.within_standard),
        (f"% within {w.standard_days} working days", w.within_pct),
    ), note="IRO Handbook 2010: the full record of the review within 15 working days.")


def _decisions(r: AnnualReport) -> Table | None:
    d = r.decisions
    if d is None or not d.recorded:  # no record read back: no figures to claim
        return None
    return Table("decisions", "Review decisions and their timescales", ("", "Figure"), (
        ("Decisions recorded (reviews held in the period)", d.recorded),
        ("With a date (the timescale names one)", d.dated),
        ("No date (\u201congoing\u201d, \u201cnext review\u201d, …)", d.undated),
        (f"Due before {uk_date(d.as_of)}", d.due),
        ("Done, as the next review recorded", d.done),
        ("Overdue: due and not recorded as done", d.overdue),
        ("% of those due that are overdue", d.overdue_pct),
    ), note="Decisions are read back from each review's record; progress from the next "
            "review's record.")


def _participation(r: AnnualReport, codes: Mapping[str, str]) -> tuple[Table, Table]:
    p = r.participation
    share = Table("participation", "Participation of children over 4", ("", "Figure"), (
        ("Reviews of children over 4", p.over_four),
        ("Child took part (PN1–PN6)", p.took_part),
        ("% who took part", p.took_part_pct),
    ), note="SSDA903 participation codes; PN0 is a child under 4, PN7 a child whose views were "
            "not conveyed.")
    ordered = sorted(c for c in p.by_code if c != NOT_RECORDED)
    if NOT_RECORDED in p.by_code:
        ordered.append(NOT_RECORDED)
    # the meaning goes with the code in one cell: text in a figure column would be misaligned
    by_code = Table("participation_codes", "Participation by code", ("Code", "Reviews"),
                    tuple((f"{c}: {codes[c]}" if c in codes else c, p.by_code[c])
                          for c in ordered))
    return share, by_code


def _returns(key: str, title: str, rates: tuple[ReturnRate, ...]) -> Table:
    rows: list[tuple[Cell, ...]] = [
        (rate.role.replace("_", " "), rate.sent, rate.returned, rate.pct) for rate in rates
    ]
    if rates:
        sent = sum(rate.sent for rate in rates)
        back = sum(rate.returned for rate in rates)
        rows.append(("all", sent, back, ReturnRate("all", sent, back).pct))
    return Table(key, title, ("Role", "Sent", "Returned", "% returned"), tuple(rows))


def _escalations(r: AnnualReport) -> Table:
    years = tuple(reversed(r.escalations))  # oldest first, as the annual report shows them
    rows: list[tuple[Cell, ...]] = [
        ("Children where issues were escalated", *(y.children for y in years))
    ]
    for stage in r.stages:
        what = "resolved after referral to" if stage == "cafcass" else "resolved by"
        rows.append((f"… {what} {stage_name(stage)}",
                     *(y.resolved_by_stage.get(stage, 0) for y in years)))
    others = sorted({s for y in years for s in y.resolved_by_stage} - set(r.stages))
    for stage in others:
        rows.append((f"… resolved at {stage_name(stage)}",
                     *(y.resolved_by_stage.get(stage, 0) for y in years)))
    rows.append(("… not yet resolved", *(y.open for y in years)))
    rows.append(("Children referred to CAFCASS at any point", *(y.cafcass_referred for y in years)))
    return Table("escalations", "Children whose cases IROs escalated",
                 ("", *(y.period.label for y in years)), tuple(rows),
                 note="Counted in children, by the stage at which the IRO closed the escalation.")


def report_tables(
    report: AnnualReport,
    participation_codes: Mapping[str, str] | None = None,
    iro_names: Mapping[str, str] | None = None,
) -> list[Table]:
    """The report's tables. ``iro_names`` maps an IRO's email to the name people know them by
    (directory.yaml); an IRO not there is shown by email."""
    share, by_code = _participation(report, participation_codes or {})
    tables = [
        _population(report),
        _reviews(report),
        _by_month(report.reviews),
        _by_iro(report.reviews, iro_names or {}),
        _write_up(report),
        *([t] if (t := _decisions(report)) else []),
        share,
        by_code,
        _returns("consultation", "Consultation returns by role", report.consultation),
    ]
    if report.questionnaires:
        tables.append(_returns("questionnaires", "Stakeholder questionnaire returns",
                               report.questionnaires))
    tables.append(_escalations(report))
    if report.qa is not None:
        from workers.qa.report import qa_tables

        tables += qa_tables(report.qa, report.reviews.iros)
    if report.survey is not None:
        from workers.survey.report import appendix_tables

        tables += appendix_tables(report.survey)
    return tables


def show(cell: Cell) -> str:
    """A cell as text for people: no figure is a dash; fractions to two places."""
    if cell is None:
        return "–"
    if isinstance(cell, float):
        return f"{cell:.2f}"
    return str(cell)
