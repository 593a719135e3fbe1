"""How long the list pages take to answer as the caseload grows, on PostgreSQL and SQLite,
through the real app (sign-in, session, the page drawn): the upcoming reviews, the mail-outs due
(a page of 25, each review's preflight run: its letters rendered) and every letter.

    .venv/bin/python benchmarks/lists.py [--sizes 1000,10000] [--stores postgresql,sqlite]
                                         [--runs 5]

For each store and size N it makes a fresh store, migrates it, loads N planned reviews (a child
each, five IROs, three teams, nine in ten with a meeting time spread over a year, one in ten with
invitations already sent and some of those failed; a carer and a social worker each) by bulk
INSERT, then asks for each list page
below ``--runs`` times and prints the best and the median in milliseconds. IRO_TEST_PG_URL picks
the PostgreSQL server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.core.clock import FixedClock, london_moment  # noqa: E402
from workers.store.session import open_store, upgrade  # noqa: E402

ADMIN = os.environ.get("IRO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = dt.date(2026, 12, 1)
PASSWORD = "benchmark pages passphrase"
SUPPORT = "bench.officer@council.example.gov.uk"
IROS = ("daniel.hughes", "aisha.rahman", "grace.whitfield", "tomasz.nowak", "bernadette.kelly")
TEAMS = ("north_lac", "south_lac", "leaving_care")
RENDERED = "/support/mailouts?sort=meeting&dir=desc"  # the due page's rendered letters
PAGES = (
    ("first page (50, by meeting)", "/support"),
    ("page 100 (50 a page)", "/support?page=100"),
    ("last page, 200 a page", "/support?size=200&page=LAST"),
    ("by child, descending", "/support?sort=child&dir=desc"),
    ("one IRO", "/support?iro=aisha.rahman@council.example.gov.uk"),
    ("one team, not started", "/support?team=south_lac&state=not_started"),
    ("with failed letters", "/support?state=failed"),
    ("mail-out due", "/support?mailout=due"),
    ("meeting dates (a month)", "/support?from=2027-03-01&to=2027-03-31"),
    ("search a child reference", "/support?q=C-0000123"),
    ("mail-outs due (25, preflighted)", "/support/mailouts"),
    ("mail-outs due, latest first", RENDERED),
    ("mail-outs due, one IRO", "/support/mailouts?iro=aisha.rahman@council.example.gov.uk"),
    ("letters, newest first", "/support/letters"),
    ("letters, sent, by day", "/support/letters?state=sent&sort=day&dir=desc"),
    ("letters, one review", "/support/letters?review=R-0000120"),
    ("letters, search", "/support/letters?q=R-00001"),
)

def _load(url: str, size: int) -> None:
    from sqlalchemy import insert, select

    from workers.store.models import Child, Dispatch, Participant, Review

    sessions = open_store(url)
    now = london_moment(TODAY)
    with sessions() as session:
        session.execute(insert(Child), [
            {"ref": f"C-{n:07d}", "given_name": "Test", "family_name": f"Child {n}",
             "date_of_birth": dt.date(2012, 1, 1) + dt.timedelta(days=n % 3000),
             "looked_after_since": dt.date(2025, 1, 1), "team": TEAMS[n % 3],
             "iro_email": f"{IROS[n % 5]}@council.example.gov.uk", "placement": "",
             "legal_status": "C2"} for n in range(size)])
        ids = {ref: id_ for ref, id_ in session.execute(select(Child.ref, Child.id))}
        rows = []
        for n in range(size):
            day = TODAY + dt.timedelta(days=1 + (n * 37) % 365)
            rows.append({"ref": f"R-{n:07d}", "child_id": ids[f"C-{n:07d}"], "sequence": 2,
                         "due_on": day + dt.timedelta(days=3),
                         "scheduled_at": None if n % 10 == 3 else london_moment(day),
                         "venue": "Civic Centre, Room 2",
                         "iro_email": f"{IROS[n % 5]}@council.example.gov.uk",
                         "status": "planned"})
        session.execute(insert(Review), rows)
        reviews = {ref: id_ for ref, id_ in session.execute(select(Review.ref, Review.id))}
        session.execute(insert(Participant), [
            {"review_id": reviews[f"R-{n:07d}"], "ref": f"P-{n:07d}-{role[:2]}", "role": role,
             "name": f"Test {role} {n}", "channel": "email", "email_confirmed": True,
             "email": f"{role}.{n}@council.example.gov.uk"}
            for n in range(size) for role in ("carer", "social_worker")])
        session.execute(insert(Dispatch), [
            {"key": f"R-{n:07d}/invitation/{k}", "kind": "mailout_invitation", "channel": "email",
             "state": "failed" if n % 70 == 0 and k == 0 else "sent",
             "review_id": reviews[f"R-{n:07d}"], "recipient": f"p{k}@council.example.gov.uk",
             "due_at": now, "attempts": 1, "params": {}}
            for n in range(0, size, 10) for k in range(4)])
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.connection().exec_driver_sql("ANALYZE")
            session.commit()


def _time(url: str, size: int, runs: int) -> list[tuple[str, int, float, float]]:
    from fastapi.testclient import TestClient

    from workers.config.settings import load_settings
    from workers.web.accounts import add_user
    from workers.web.app import create_app

    sessions = open_store(url)
    with sessions() as session:
        add_user(session, SUPPORT, "business_support", PASSWORD, actor="benchmark")
        session.commit()
    settings = load_settings(ROOT / "config", environ={
        "IRO_DATABASE_URL": url, "IRO_TEMPLATES_DIR": str(ROOT / "templates_docx")})
    app = create_app(settings, sessions=sessions, clock=FixedClock.on(TODAY), pdf=False)
    client = TestClient(app, follow_redirects=False)
    page = client.get("/sign-in").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/sign-in", data={"csrf_token": token, "email": SUPPORT, "password": PASSWORD})
    last = -(-size // 200)
    out = []
    for label, query in PAGES:
        path = query.replace("LAST", str(last))
        times, rows = [], 0
        for _ in range(runs):
            began = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")
            rows = max(0, response.text.count("<tr>") - 1)  # less the heading
            # the earliest meetings' forms would be due back already (refused before rendering);
            # the latest ones' letters are rendered: measured to be sure
            if path == RENDERED and response.text.count(">ready</span>") < 20:
                raise SystemExit(f"{path}: few reviews passed their preflight; the data is wrong")
        out.append((label, rows, min(times) * 1000, statistics.median(times) * 1000))
    return out


def _postgres() -> tuple[str, Any]:
    import psycopg

    name = f"iro_bench_{uuid.uuid4().hex[:8]}"
    admin = ADMIN.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--stores", default="postgresql,sqlite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for store in args.stores.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory() as folder:
                if store == "postgresql":
                    url, drop = _postgres()
                else:
                    url, drop = f"sqlite:///{folder}/bench.sqlite3", (lambda: None)
                try:
                    upgrade(url)
                    began = time.perf_counter()
                    _load(url, size)
                    loaded = time.perf_counter() - began
                    results = _time(url, size, args.runs)
                finally:
                    drop()
            print(f"\n{store}, {size:,} planned reviews (loaded in {loaded:.1f} s)")
            print(f"  {'page':<32} {'rows':>5} {'best ms':>8} {'median ms':>10}")
            for label, rows, best, median in results:
                print(f"  {label:<32} {rows:>5} {best:>8.1f} {median:>10.1f}")


if __name__ == "__main__":
    main()
