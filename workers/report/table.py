"""The shape every report's output reads: a titled table of cells (rich, csv, json, docx)."""

from __future__ import annotations

from dataclasses import dataclass

Cell = int | float | str | None  # None: no figure (nothing to divide by)


@dataclass(frozen=True)
class Table:
    key: str  # stable, for csv/json and for the template to place charts
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
