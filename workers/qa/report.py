"""The annual report's quality assurance tables (pure): chairing observations and record audits
by standard, as §9.2-9.3 of the 2013-14 report describe the work."""

from __future__ import annotations

from collections.abc import Iterable

from workers.qa.counts import QaResults
from workers.report.figures import percent
from workers.report.table import Cell, Table


def qa_tables(results: QaResults, chairing: Iterable[str]) -> list[Table]:
    """``chairing``: the IROs (emails) who chaired a review in the period; with those observed
    they are "all IROs" (an IRO observed but chairing nothing that year still counts)."""
    everyone = {e.strip().lower() for e in chairing} | set(results.observed)
    observed = len(results.observed)
    observations = Table("observations", "Observations of IROs chairing reviews", ("", "Figure"), (
        ("IROs in the period", len(everyone)),
        ("IROs observed chairing a review", observed),
        ("% of IROs observed", percent(observed, len(everyone))),
        ("Observations recorded", results.observations),
    ), note="Annual report §9.2: the IRO manager observes each IRO chairing a review at least "
            "once a year. IROs in the period: those who chaired a review or were observed.")
    rows: list[tuple[Cell, ...]] = [
        (s.title, s.met, s.partly, s.not_met, s.audited) for s in results.standards
    ]
    audits = Table("record_audits", f"Review records audited: {results.audits}",
                   ("Standard", "Met", "Partly met", "Not met", "Records rated"), tuple(rows),
                   note="Annual report §9.3: review records audited against the agreed standards "
                        "(config/audit.yaml). A standard not rated in an audit is not counted.")
    return [observations, audits]
