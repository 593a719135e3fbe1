"""Reading the decisions back from the review record the IRO completed (issue 15 §1). Pure.

The draft record (``templates_docx/review_record.docx``) has a SMART table headed No., Desired
outcome, Action, Who is responsible, Timescale, Outcome indicator. The IRO fills it in Word and
returns the file; the rows with anything written in them become the review's decisions, which
the next review's draft carries with a column for progress. Columns are found by their headings,
so a table with a column moved or widened still reads; a file with no such table is refused with
a message that says what was looked for.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from workers.errors import RecordUnreadableError

# heading words → field; the first heading that contains the words wins
_COLUMNS = (
    ("indicator", ("indicator",)),
    ("outcome", ("outcome",)),
    ("action", ("action",)),
    ("responsible", ("responsible", "who")),
    ("timescale", ("timescale", "by when")),
    ("number", ("no", "number")),
)
WANTED = ("Desired outcome", "Action", "Who is responsible", "Timescale", "Outcome indicator")


@dataclass(frozen=True)
class DecisionRow:
    number: int
    outcome: str
    action: str
    responsible: str
    timescale: str
    indicator: str


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", text.lower()).split())


def _columns(headings: list[str]) -> dict[str, int] | None:
    """Field → column index, when the headings are a decisions table's."""
    found: dict[str, int] = {}
    for i, heading in enumerate(_norm(h) for h in headings):
        for field, words in _COLUMNS:
            if field in found:
                continue
            if any(w == heading or w in heading.split() or (" " in w and w in heading)
                   for w in words):
                found[field] = i
                break
    needed = {"outcome", "action", "responsible", "timescale", "indicator"}
    return found if needed <= set(found) else None


def _cell(cells: list[str], columns: dict[str, int], field: str) -> str:
    i = columns.get(field)
    return cells[i] if i is not None and i < len(cells) else ""


def read_decisions(content: bytes, name: str) -> list[DecisionRow]:
    """The filled rows of the record's decisions table; RecordUnreadableError says why not."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(content))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise RecordUnreadableError(
            f"{name}: not a Word document (.docx) that can be opened ({type(exc).__name__}); "
            "save the record as .docx and give it again"
        ) from exc
    for table in document.tables:
        rows = table.rows
        if not rows:
            continue
        columns = _columns([c.text for c in rows[0].cells])
        if columns is None:
            continue
        decisions: list[DecisionRow] = []
        for n, row in enumerate(rows[1:], start=1):
            cells = [c.text.strip() for c in row.cells]

            filled = {f: _cell(cells, columns, f) for f in ("outcome", "action", "responsible",
                                                           "timescale", "indicator")}
            if not any(filled.values()):
                continue  # a blank row left for writing in
            digits = re.findall(r"\d+", _cell(cells, columns, "number"))
            decisions.append(DecisionRow(number=int(digits[0]) if digits else n, **filled))
        numbers = [d.number for d in decisions]
        if len(set(numbers)) != len(numbers):  # renumber rather than lose one
            decisions = [DecisionRow(i, d.outcome, d.action, d.responsible, d.timescale,
                                     d.indicator) for i, d in enumerate(decisions, start=1)]
        if not decisions:
            raise RecordUnreadableError(
                f"{name}: the decisions table is empty; write the review's decisions in it "
                "(one row each) and give the record again"
            )
        return decisions
    raise RecordUnreadableError(
        f"{name}: no decisions table found (a table headed {', '.join(WANTED)}, as in the draft "
        "record); keep the draft's table and give the record again"
    )


def read_progress(content: bytes) -> dict[int, str]:
    """The progress written against each previous decision (the draft's "Decisions of the
    previous review" table: No. … Progress), by decision number; empty when there is none."""
    import docx

    try:
        document = docx.Document(io.BytesIO(content))
    except Exception:  # noqa: BLE001  # an unreadable file: read_decisions says why
        return {}
    for table in document.tables:
        rows = table.rows
        heads = [_norm(c.text) for c in rows[0].cells] if rows else []
        if "progress" not in heads or not heads or heads[0] not in ("no", "number"):
            continue
        at = heads.index("progress")
        out: dict[int, str] = {}
        for row in rows[1:]:
            cells = [c.text.strip() for c in row.cells]
            digits = re.findall(r"\d+", cells[0]) if cells else []
            if digits and at < len(cells) and cells[at]:
                out[int(digits[0])] = cells[at]
        return out
    return {}
