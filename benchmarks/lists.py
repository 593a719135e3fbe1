"""How long the list pages take to answer as the caseload grows, on PostgreSQL and SQLite,
through the real app (sign-in, session, the page drawn): the upcoming reviews, the mail-outs due
(a page of 25: drawn at once with the rows to check, each row's preflight (its letters rendered)
asked for after as the browser does, then drawn again from the kept answers; and the page
without JavaScript, every row checked first), every letter, an IRO's caseload and the managers'
home (open escalations, overdue write-ups and reviews, caseloads by IRO), the escalation lists
and the unmatched returns, with their search boxes and filters.

    .venv/bin/python benchmarks/lists.py [--sizes 1000,10000] [--stores postgresql,sqlite]
                                         [--runs 5]

For each store and size N it makes a fresh store, migrates it, loads N planned reviews (a child
each, five IROs, three teams, nine in ten with a meeting time spread over a year, one in ten
with invitations already sent and some of those failed, half of them with a form, three in four
of those back; a carer and a social worker each; one child in four has a review held before, its
write-ups open and some overdue; one child in ten more has only a held review, its next one not
yet planned (the rules' date); one in fifty an open escalation at some stage and as many
resolved; half as many unmatched inbox messages as reviews, one in ten waiting) by bulk INSERT.
The first list read after the load works every child's next review out by the rules
(``next_review.refresh``): timed once. Then it asks for each list page below ``--runs`` times
and prints the best and the median in milliseconds (the preflight rows: all 25 requests
together, the kept answers forgotten before each run). IRO_TEST_PG_URL picks the PostgreSQL
server.
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
IRO_MANAGER = "patricia.okafor@council.example.gov.uk"  # config/directory.yaml
IRO = f"{IROS[1]}@council.example.gov.uk"
STAGES = ("informal", "deputy_manager", "group_manager", "head_of_service")
RENDERED = "/support/mailouts?sort=meeting&dir=desc&checks=now"  # the rows' letters rendered
FILL = "FILL "  # every row of the page asked for its checks, as htmx does
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
    ("forms not all back", "/support?forms=outstanding"),
    ("mail-outs due, drawn, rows to check", "/support/mailouts?sort=meeting&dir=desc"),
    ("  its 25 rows checked (together)", FILL + "/support/mailouts?sort=meeting&dir=desc"),
    ("  drawn again, answers kept", "/support/mailouts?sort=meeting&dir=desc"),
    ("mail-outs due, no JS: 25 checked", RENDERED),
    ("mail-outs due, one IRO, no JS", "/support/mailouts?iro=aisha.rahman@council.example.gov"
                                      ".uk&checks=now"),
    ("letters, newest first", "/support/letters"),
    ("letters, sent, by day", "/support/letters?state=sent&sort=day&dir=desc"),
    ("letters, one review", "/support/letters?review=R-0000120"),
    ("letters, search", "/support/letters?q=R-00001"),
    ("IRO caseload (first 50)", "iro:/iro"),
    ("IRO caseload, last page", "iro:/iro?children=LASTC"),
    ("IRO caseload, search a review reference", "iro:/iro?q=R-00001"),
    ("IRO caseload, next reviews in a month", "iro:/iro?from=2027-03-01&to=2027-03-31"),
    ("manager home (IRO manager)", "manager:/manager"),
    ("manager home, overdue page 3", "manager:/manager?overdue=3&overdue_reviews=3"),
    ("manager home, overdue, search a child", "manager:/manager?q=C-0000123"),
    ("escalations, open, by stage", "manager:/manager/escalations?state=open&sort=stage"),
    ("escalations, search a child", "manager:/manager/escalations?q=C-0000150"),
    ("IRO's escalations, resolved", "iro:/iro/escalations?state=resolved"),
    ("unmatched returns, every one, search", "/support/returns/unmatched?show=all&q=example"),
)

def _load(url: str, size: int) -> None:
    from sqlalchemy import insert, select

    from workers.store.models import Child, Dispatch, Participant, Return, Review

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
             "due_at": now, "attempts": 1, "params": {},
             "reference_code": f"F-{n:07d}-{k}" if k < 2 else None}  # two carry a form
            for n in range(0, size, 10) for k in range(4)])
        forms = session.execute(select(Dispatch.id).where(Dispatch.reference_code.is_not(None))
                                .order_by(Dispatch.id)).scalars().all()
        session.execute(insert(Return), [  # three in four forms back
            {"dispatch_id": id_, "received_on": TODAY, "channel": "email"}
            for n, id_ in enumerate(forms) if n % 4])
        _held_and_escalated(session, size, ids)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.connection().exec_driver_sql("ANALYZE")
            session.commit()


def _held_and_escalated(session: Any, size: int, ids: dict[str, int]) -> None:
    """Held reviews with write-ups open (one child in four), children whose next review is not
    yet planned (one in ten more), open escalations (one in fifty)."""
    from sqlalchemy import insert, select

    from workers.store.models import Child, Deadline, Escalation, Review

    extra = size // 10
    session.execute(insert(Child), [
        {"ref": f"C-9{n:06d}", "given_name": "Held", "family_name": f"Child {n}",
         "date_of_birth": dt.date(2012, 1, 1), "looked_after_since": dt.date(2024, 1, 1),
         "team": TEAMS[n % 3], "iro_email": f"{IROS[n % 5]}@council.example.gov.uk",
         "placement": "", "legal_status": "C2"} for n in range(extra)])
    ids.update({ref: id_ for ref, id_ in session.execute(
        select(Child.ref, Child.id).where(Child.ref.like("C-9%")))})
    held = [(f"C-{n:07d}", f"H-{n:07d}") for n in range(0, size, 4)]
    held += [(f"C-9{n:06d}", f"H-9{n:06d}") for n in range(extra)]
    rows = []
    for k, (child, ref) in enumerate(held):
        on = TODAY - dt.timedelta(days=5 + (k * 11) % 170)
        rows.append({"ref": ref, "child_id": ids[child], "sequence": 1, "due_on": on,
                     "held_on": on, "venue": "", "status": "held", "in_timescale": True,
                     "iro_email": f"{IROS[k % 5]}@council.example.gov.uk"})
    session.execute(insert(Review), rows)
    reviews = {ref: id_ for ref, id_ in session.execute(
        select(Review.ref, Review.id).where(Review.ref.like("H-%")))}
    session.execute(insert(Deadline), [
        {"key": f"{ref}/{kind}", "kind": kind, "review_id": reviews[ref],
         "started_on": row["held_on"], "statutory": False,
         "due_on": row["held_on"] + dt.timedelta(days=7 if kind == "decisions" else 20)}
        for row in rows for ref in (row["ref"],) for kind in ("decisions", "record")])
    session.execute(insert(Escalation), [
        {"child_id": ids[f"C-{n:07d}"],
         "iro_email": f"{IROS[n // 50 % 5]}@council.example.gov.uk",
         "category": "pep_not_recorded", "concern": "A concern", "stage": STAGES[n % 4],
         "status": "open", "raised_on": TODAY - dt.timedelta(days=n % 60),
         "stage_started_on": TODAY - dt.timedelta(days=n % 30),
         "response_due_on": None if n % 4 == 0 else TODAY + dt.timedelta(days=n % 20 - 10)}
        for n in range(0, size, 50)])
    session.execute(insert(Escalation), [  # as many resolved, over the last two years
        {"child_id": ids[f"C-{n:07d}"],
         "iro_email": f"{IROS[n // 25 % 5]}@council.example.gov.uk",
         "category": "pep_not_recorded", "concern": "A concern", "stage": STAGES[n % 4],
         "status": "resolved", "raised_on": TODAY - dt.timedelta(days=40 + n % 700),
         "stage_started_on": TODAY - dt.timedelta(days=30 + n % 700),
         "resolved_on": TODAY - dt.timedelta(days=n % 700), "resolved_stage": STAGES[n % 4]}
        for n in range(25, size, 50)])
    _unmatched(session, size)


def _unmatched(session: Any, size: int) -> None:
    """Inbox messages the poll could not file: half as many as reviews, one in ten waiting."""
    from sqlalchemy import insert

    from workers.store.returns_models import UnmatchedMessage

    start = london_moment(TODAY) - dt.timedelta(days=365)
    session.execute(insert(UnmatchedMessage), [
        {"message_id": f"<m{n}@mail.example-{n % 40}.org.uk>", "reason": "no_code",
         "received_at": start + dt.timedelta(minutes=n * 97 % 525_600),
         "sender_domain": f"mail.example-{n % 40}.org.uk", "attachments": n % 3,
         "codes": "" if n % 4 else f"C-{n:07X}",
         "dealt_with_at": None if n % 10 == 0 else start + dt.timedelta(days=n % 360 + 1),
         "dealt_with_by": None if n % 10 == 0 else "bs.officer@council.example.gov.uk"}
        for n in range(size // 2)])


def _client(app: Any, email: str) -> Any:
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False)
    page = client.get("/sign-in").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD})
    return client


def _time(url: str, size: int, runs: int) -> list[tuple[str, int, float, float]]:
    import re

    from workers.config.settings import load_settings
    from workers.web.accounts import add_user
    from workers.web.app import create_app

    sessions = open_store(url)
    with sessions() as session:
        for email, role in ((SUPPORT, "business_support"), (IRO, "iro"),
                            (IRO_MANAGER, "manager")):
            add_user(session, email, role, PASSWORD, actor="benchmark")
        session.commit()
    settings = load_settings(ROOT / "config", environ={
        "IRO_DATABASE_URL": url, "IRO_TEMPLATES_DIR": str(ROOT / "templates_docx")})
    app = create_app(settings, sessions=sessions, clock=FixedClock.on(TODAY), pdf=False)
    clients = {"support": _client(app, SUPPORT), "iro": _client(app, IRO),
               "manager": _client(app, IRO_MANAGER)}
    began = time.perf_counter()  # the first read works out every child's next review
    first = clients["iro"].get("/iro")
    refreshed = time.perf_counter() - began
    total = re.search(r"([0-9,]+) children", first.text)
    children = int(total.group(1).replace(",", "")) if total else 0
    replacements = {"LAST": str(-(-size // 200)), "LASTC": str(max(1, -(-children // 50)))}
    out = [("first read: every child's next review", 0, refreshed * 1000, refreshed * 1000)]
    for label, query in PAGES:
        fill = query.startswith(FILL)
        who, _, path = query.removeprefix(FILL).rpartition(":")
        client = clients[who or "support"]
        path = re.sub(r"=(LASTC|LAST)\b", lambda m: "=" + replacements[m.group(1)], path)
        times, rows = [], 0
        for _ in range(runs):
            if fill or "checks=now" in path:
                app.state.preflight_cache = None  # nothing kept: every row checked
            began = time.perf_counter()
            response = client.get(path)
            if fill:
                refs = re.findall(r'hx-get="(/support/mailouts/check/[^"]+)"', response.text)
                began = time.perf_counter()  # the rows only
                for ref in refs:
                    if client.get(ref).status_code != 200:
                        raise SystemExit(f"{ref}: not checked")
                rows = len(refs)
            times.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")
            if not fill:
                rows = max(0, response.text.count("<tr") - response.text.count("<thead>"))
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
            print(f"  {'page':<38} {'rows':>5} {'best ms':>8} {'median ms':>10}")
            for label, rows, best, median in results:
                print(f"  {label:<38} {rows:>5} {best:>8.1f} {median:>10.1f}")


if __name__ == "__main__":
    main()
