"""How long `iro report` takes for a year as the data grows, on PostgreSQL.

    .venv/bin/python benchmarks/report.py [--sizes 10000,100000] [--full] [--runs 3] [--explain]

For each size N it creates a fresh database, migrates it, loads a synthetic year of N reviews
(a third as many children, an IRO per 60 children, a tenth more reviews the year before; forms,
returns, deadlines and escalations with them) by COPY, runs ANALYZE, then times the whole report
(every query, as `iro report` runs them) ``--runs`` times and prints the best and the median.
The figures are checked against the ones known by construction. ``--full`` adds 1,000,000
reviews (generating it takes a few minutes). IRO_TEST_PG_URL picks the server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic_year import Spec, load  # noqa: E402
from workers.report.annual import build_report  # noqa: E402
from workers.store.session import open_store, upgrade  # noqa: E402

ADMIN = os.environ.get("IRO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _database() -> str:
    import psycopg

    name = f"iro_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(size: int, runs: int, explain: bool) -> tuple[int, float, float, float, int]:
    name = _database()
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        sessions = open_store(url)
        children = max(size // 3, 30)
        spec = Spec(children=children, reviews=size, iros=max(children // 60, 1))
        started = time.perf_counter()
        with sessions() as session:
            data = load(session, spec)
            session.commit()
        with sessions() as session:
            session.connection().exec_driver_sql("ANALYZE")
            session.commit()
        loaded = time.perf_counter() - started
        with sessions() as session:
            rows = session.connection().exec_driver_sql(
                "SELECT (SELECT count(*) FROM reviews) + (SELECT count(*) FROM deadlines) + "
                "(SELECT count(*) FROM participants) + (SELECT count(*) FROM dispatches) + "
                "(SELECT count(*) FROM returns) + (SELECT count(*) FROM children) + "
                "(SELECT count(*) FROM escalations)"
            ).scalar_one()
        times = []
        report = None
        for _ in range(runs):
            with sessions() as session:
                began = time.perf_counter()
                report = build_report(session, spec.period)
                times.append(time.perf_counter() - began)
        if report != data.expected():
            raise SystemExit(f"size {size}: the report's figures differ from the known ones")
        if explain:
            _explain(sessions, spec)
        sessions.kw["bind"].dispose()
        return size, loaded, min(times), statistics.median(times), int(rows)
    finally:
        _drop(name)


def _explain(sessions: object, spec: Spec) -> None:
    """Print the plan of each statement the report runs (EXPLAIN ANALYZE), slowest first."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []
    with sessions() as session:  # type: ignore[operator]
        bind = session.get_bind()

        def grab(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
            statements.append((statement, params))

        event.listen(bind, "before_cursor_execute", grab)
        build_report(session, spec.period)
        event.remove(bind, "before_cursor_execute", grab)
        for statement, params in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS OFF) " + statement, params
            ).scalars().all()
            total = next((line for line in plan if "Execution Time" in line), "")
            print(f"--- {total.strip()}\n{statement.strip()[:160]}…\n  " + "\n  ".join(plan[:40]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--full", action="store_true", help="also 1,000,000 reviews")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.full and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    print(f"{'reviews':>10} {'rows':>10} {'load s':>8} {'report best s':>14} {'median s':>9}")
    for size in sizes:
        n, loaded, best, median, rows = run(size, args.runs, args.explain)
        print(f"{n:>10,} {rows:>10,} {loaded:>8.1f} {best:>14.3f} {median:>9.3f}", flush=True)


if __name__ == "__main__":
    main()
