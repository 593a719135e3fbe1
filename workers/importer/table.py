"""A reviews CSV's bytes → its records, each with the line it starts on; the header checked.

Reading the file is its own idea: the encoding Excel wrote it in, a header naming known columns,
records that may span lines (a quoted address). Checking the values is ``importer.rows``'s job.
"""

from __future__ import annotations

import csv
import io

from workers.errors import ImportRowError
from workers.importer.format import BY_NAME, COLUMNS
from workers.importer.records import RowError, raise_errors


def read_table(data: bytes, source: str) -> list[tuple[int, dict[str, str]]]:
    """Decode and split the file; check the header. Returns (line, values) per non-blank record."""
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRowError(
            f"{source}: line {line}: not UTF-8: save it as CSV UTF-8 from Excel "
            "(Save As, then 'CSV UTF-8 (Comma delimited)')"
        ) from None
    required = [c.name for c in COLUMNS if c.required]
    if not text.strip():
        raise ImportRowError(
            f"{source}: line 1: the file is empty; expected a header row with at least "
            + ", ".join(required)
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[RowError] = []
    records: list[tuple[int, dict[str, str]]] = []
    try:
        header = [name.strip().lower() for name in next(reader)]
        for name in sorted({n for n in header if header.count(n) > 1}):
            errors.append(RowError(1, name, "appears twice in the header"))
        for name in header:
            if name not in BY_NAME:
                reason = "unknown column (see docs/csv-format.md)"
                errors.append(RowError(1, name or "(blank)", reason))
        for name in required:
            if name not in header:
                errors.append(RowError(1, name, "missing from the header"))
        raise_errors(source, errors)
        end = reader.line_num
        for fields_ in reader:
            start, end = end + 1, reader.line_num
            if not any(f.strip() for f in fields_):
                continue
            if len(fields_) != len(header):
                reason = f"{len(fields_)} fields, but the header has {len(header)}"
                errors.append(RowError(start, None, reason))
                continue
            records.append((start, dict(zip(header, fields_, strict=True))))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, None, f"not valid CSV ({exc})"))
    raise_errors(source, errors)
    if not records:
        raise ImportRowError(f"{source}: line 2: no participant rows after the header")
    return records
