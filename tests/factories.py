"""Small helpers that make stores and case records for everyone's tests.

``sqlite_store(tmp_path)`` and ``postgres_store(pg_database)`` return a sessionmaker on a freshly
migrated store (Alembic, never ``create_all``). ``make_child`` / ``make_review`` /
``make_participant`` / ``make_case`` add fictional records through the models and flush, so ids
are set; the caller commits. Every keyword overrides a column.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from workers.store.models import Child, Participant, Review
from workers.store.session import open_store, upgrade

_seq = itertools.count(1)
IRO_EMAIL = "iro.one@council.example.gov.uk"


def sqlite_store(tmp_path: Path) -> sessionmaker[Session]:
    """A migrated SQLite file store under ``tmp_path``."""
    url = sqlite_url(tmp_path)
    upgrade(url)
    return open_store(url)


def sqlite_url(tmp_path: Path) -> str:
    """A SQLite URL in a folder that exists (the store makes no folder but the default var/)."""
    (tmp_path / "store").mkdir(exist_ok=True)
    return f"sqlite:///{tmp_path / 'store' / 'iro.sqlite3'}"


def postgres_url(pg_database: str) -> str:
    """A URL on a new, empty schema of the session's PostgreSQL database (one per test)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_database.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    # libpq's options parameter sets search_path for every connection of this URL
    return f"{pg_database}?options=-csearch_path%3D{schema}"


def postgres_store(pg_database: str) -> sessionmaker[Session]:
    """A migrated PostgreSQL store on a fresh schema."""
    url = postgres_url(pg_database)
    upgrade(url)
    return open_store(url)


def make_child(session: Session, **overrides: Any) -> Child:
    n = next(_seq)
    values: dict[str, Any] = {
        "ref": f"C-{n:05d}",
        "given_name": "Zoë",
        "family_name": "O'Neil",
        "date_of_birth": dt.date(2016, 3, 14),
        "looked_after_since": dt.date(2026, 1, 5),
        "team": "north",
        "iro_email": IRO_EMAIL,
        "placement": "Smith & Sons Fostering",
        "legal_status": "C2",
    }
    values.update(overrides)
    child = Child(**values)
    session.add(child)
    session.flush()
    return child


def make_review(session: Session, child: Child | None = None, **overrides: Any) -> Review:
    child = child or make_child(session)
    n = next(_seq)
    values: dict[str, Any] = {
        "ref": f"R-{n:05d}",
        "child": child,
        "sequence": 2,
        "due_on": dt.date(2027, 1, 15),
        "scheduled_at": dt.datetime(2027, 1, 12, 10, 0, tzinfo=dt.UTC),
        "venue": "Civic Centre, Room 2",
        "iro_email": child.iro_email,
    }
    values.update(overrides)
    review = Review(**values)
    session.add(review)
    session.flush()
    return review


def make_participant(
    session: Session, review: Review, role: str = "parent", **overrides: Any
) -> Participant:
    n = next(_seq)
    values: dict[str, Any] = {
        "ref": f"P-{n:05d}",
        "review": review,
        "role": role,
        "name": f"Test {role.replace('_', ' ').title()} {n}",
        "channel": "email",
        "email": f"{role}.{n}@council.example.gov.uk",
    }
    if overrides.get("channel") == "post":
        values.update(
            email=None, address="12 Acacia Avenue\nBromley\nKent", postcode="BR1 1AA"
        )
    values.update(overrides)
    participant = Participant(**values)
    session.add(participant)
    session.flush()
    return participant


def make_case(session: Session, **child_overrides: Any) -> Review:
    """A child with one planned review and one participant of every role (the parent by post)."""
    review = make_review(session, make_child(session, **child_overrides))
    make_participant(session, review, "child", email=None, channel="post")
    make_participant(session, review, "parent", channel="post")
    make_participant(session, review, "carer", organisation="Smith & Sons Fostering")
    make_participant(session, review, "social_worker")
    make_participant(session, review, "guardian", email=f"guardian.{review.id}@cafcass.gov.uk")
    make_participant(session, review, "other", organisation="Virtual School")
    return review
