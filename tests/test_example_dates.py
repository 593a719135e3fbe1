"""`scripts/example_dates.py` moves the example reviews on by whole weeks, so `make run` shows on
any day what it showed the day the examples were written."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

from mailout_support import ROOT

SCRIPT = ROOT / "scripts" / "example_dates.py"
EXAMPLES = ROOT / "examples" / "reviews.csv"


def moved(tmp_path: Path, today: str) -> list[dict[str, str]]:
    out = tmp_path / f"{today}.csv"
    subprocess.run([sys.executable, str(SCRIPT), str(EXAMPLES), str(out), "--today", today],
                   check=True, capture_output=True)
    with out.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_date_moves_on_by_the_same_whole_weeks(tmp_path: Path) -> None:
    same = moved(tmp_path, "2026-12-02")
    later = moved(tmp_path, "2028-02-29")  # 454 days later: moved on 65 weeks
    assert len(same) == len(later) > 0
    with EXAMPLES.open(encoding="utf-8-sig") as fh:
        assert same == list(csv.DictReader(fh))  # on the day written for: unchanged
    for before, after in zip(same, later, strict=True):
        for column in ("child_dob", "looked_after_since", "review_date"):
            gap = dt.date.fromisoformat(after[column]) - dt.date.fromisoformat(before[column])
            assert gap == dt.timedelta(weeks=65), column
        dates = ("child_dob", "looked_after_since", "previous_review_date", "review_date")
        assert {k: v for k, v in after.items() if k not in dates} == {
            k: v for k, v in before.items() if k not in dates}
    first = min(dt.date.fromisoformat(r["review_date"]) for r in later)
    assert first >= dt.date(2028, 2, 29) + dt.timedelta(days=6)  # as near as when written
