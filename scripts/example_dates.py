"""Move the example reviews' dates so they lie ahead of today, as they did when written.

``examples/reviews.csv`` was written for a service whose today was ``WRITTEN_FOR``: its
reviews meet from a week to two months later. Run on a later day, every review would be in the
past and the demo would show nothing but late mail-outs. This copies the file with every date
(births too, so ages and age bands stay) moved on by whole weeks, so weekdays stay weekdays:

    python scripts/example_dates.py examples/reviews.csv var/reviews.csv [--today YYYY-MM-DD]

`make run` (scripts/demo) and tests/test_mailout_round.py import the copy.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

WRITTEN_FOR = dt.date(2026, 12, 2)
DATE_COLUMNS = ("child_dob", "looked_after_since", "previous_review_date", "review_date")


def weeks_on(today: dt.date) -> dt.timedelta:
    """Whole weeks from WRITTEN_FOR to ``today``, rounded up so that no review comes nearer than it
    was when written (never back: an earlier today moves nothing)."""
    return dt.timedelta(weeks=max(0, -(-(today - WRITTEN_FOR).days // 7)))


def move(text: str, by: dt.timedelta) -> str:
    value = text.strip()
    if not value:
        return text
    if "/" in value:  # DD/MM/YYYY, as the CSV format allows
        day = dt.datetime.strptime(value, "%d/%m/%Y").date()
    else:
        day = dt.date.fromisoformat(value)
    return (day + by).isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--today", type=dt.date.fromisoformat,
                        default=dt.datetime.now(ZoneInfo("Europe/London")).date())
    args = parser.parse_args(argv)
    by = weeks_on(args.today)
    with args.source.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = [{k: move(v, by) if k in DATE_COLUMNS else v for k, v in row.items()}
                for row in reader]
    args.target.parent.mkdir(parents=True, exist_ok=True)
    with args.target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"example dates moved on {by.days // 7} weeks (written for {WRITTEN_FOR}; "
          f"today {args.today})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
