"""903 CSV files → typed rows, each table recognised by its set of columns, not its file name.

Dates are ``dd/mm/yyyy`` as the return writes them. Files are UTF-8, with or without Excel's
BOM; UTF-16 and Windows-1252 (Excel's other "CSV" choices) are refused with what to do.
Pure: bytes in, rows out, problems collected as ``RowError``s (line and column).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from workers.errors import ImportRowError
from workers.importer.records import RowError, raise_errors
from workers.inputs.refs import ref_problem
from workers.inputs.text import control_problem

# DfE SSDA903 guidance, table specifications (the columns every extract carries).
HEADER = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")
EPISODES = ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
            "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN")
REVIEWS = ("CHILD", "DOB", "REVIEW", "REVIEW_CODE")
TABLES: dict[str, tuple[str, ...]] = {"Header": HEADER, "Episodes": EPISODES, "Reviews": REVIEWS}
RESAVE = "re-save as CSV UTF-8 (Excel: Save As, 'CSV UTF-8 (Comma delimited)')"


@dataclass(frozen=True)
class Row:
    source: str
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "").strip()


@dataclass(frozen=True)
class Table:
    name: str  # Header | Episodes | Reviews
    source: str
    rows: tuple[Row, ...]


def decode(data: bytes, source: str) -> str:
    """UTF-8 text, or an ImportRowError saying to re-save the file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise ImportRowError(f"{source}: line 1: the file is UTF-16 (Excel's 'Unicode Text'); "
                             + RESAVE)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRowError(f"{source}: line {line}: not UTF-8 (Windows-1252?); {RESAVE}") \
            from None


def recognise(columns: list[str]) -> str | None:
    """The table whose column set this header is (extra columns allowed, none missing)."""
    present = set(columns)
    # Most specific first: the Reviews columns are a subset of no other table's.
    for name in ("Episodes", "Header", "Reviews"):
        if set(TABLES[name]) <= present:
            return name
    return None


def read_table(data: bytes, source: str) -> Table:
    text = decode(data, source)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[RowError] = []
    try:
        header = [c.strip().upper() for c in next(reader, [])]
    except csv.Error as exc:
        raise ImportRowError(f"{source}: line 1: not valid CSV ({exc})") from None
    name = recognise(header)
    if name is None:
        raise ImportRowError(
            f"{source}: line 1: the header is not a 903 table; expected the columns of "
            + "; or ".join(f"{t} ({','.join(c)})" for t, c in TABLES.items())
        )
    rows: list[Row] = []
    end = reader.line_num
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                errors.append(RowError(start, None,
                                       f"{len(fields)} fields, but the header has {len(header)}"))
                continue
            row = Row(source, start, dict(zip(header, fields, strict=True)))
            errors += _row_problems(row)
            rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, None, f"not valid CSV ({exc})"))
    raise_errors(source, errors)
    return Table(name, source, tuple(rows))


def _row_problems(row: Row) -> list[RowError]:
    found: list[RowError] = []
    for column, value in row.values.items():
        if problem := control_problem(value, multiline=False):
            found.append(RowError(row.line, column, problem))
    child = row["CHILD"]
    # 27: room for the "-903-yyyymmdd" of a review ref in the store's 40 characters
    if problem := ref_problem(child, max_length=27):
        found.append(RowError(row.line, "CHILD", problem))
    return found


def parse_date(text: str) -> dt.date:
    """``dd/mm/yyyy`` (the return's format); ValueError otherwise."""
    value = text.strip()
    parts = value.split("/")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts) \
            or len(parts[2]) != 4:
        raise ValueError(f"expected a date as dd/mm/yyyy, got {value!r}")
    try:
        day = dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise ValueError(f"{value!r} is not a real date") from None
    if not 1900 <= day.year <= 2199:
        raise ValueError(f"{value!r} is out of range")
    return day
