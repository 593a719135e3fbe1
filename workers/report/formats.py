"""The report's tables as csv and json text, and as rich tables for the terminal. Pure."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from typing import Any

from workers.inputs.csvcells import safe_values
from workers.report.figures import AnnualReport
from workers.report.table import Table
from workers.report.tables import show


def to_csv(tables: Sequence[Table]) -> str:
    """Long form, one figure a line (table, row, column, value): easy to filter and pivot."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("table", "row", "column", "value"))
    for table in tables:
        for row in table.rows:
            for header, cell in zip(table.headers[1:], row[1:], strict=True):
                writer.writerow(safe_values(
                    (table.key, row[0], header, "" if cell is None else cell)))
    return out.getvalue()


def to_json(report: AnnualReport, tables: Sequence[Table]) -> str:
    doc: dict[str, Any] = {
        "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat(),
                   "label": report.period.label},
        "figures": dataclasses.asdict(report),
        "tables": [
            {"key": t.key, "title": t.title, "headers": list(t.headers),
             "rows": [list(r) for r in t.rows], "note": t.note}
            for t in tables
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


def to_rich(tables: Sequence[Table]) -> list[Any]:
    """rich Tables, numbers right-aligned, notes as captions."""
    from rich.table import Table as RichTable

    out = []
    for table in tables:
        rich = RichTable(title=table.title, caption=table.note or None, title_justify="left",
                         caption_justify="left")
        for i, header in enumerate(table.headers):
            numeric = i > 0 and all(not isinstance(row[i], str) for row in table.rows)
            rich.add_column(header, justify="right" if numeric else "left", no_wrap=i == 0)
        for row in table.rows:
            rich.add_row(*(show(c) for c in row))
        out.append(rich)
    return out
