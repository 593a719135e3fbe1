"""The migrations create exactly the tables of workers/store/models.py, on SQLite and PostgreSQL.

A model changed without a new migration fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from factories import postgres_url, sqlite_url

from workers.store.models import Base
from workers.store.session import (
    create_store_engine,
    current_revision,
    head_revision,
    upgrade,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return postgres_url(request.getfixturevalue("pg_database"))


def test_upgrade_creates_exactly_the_models(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    engine = create_store_engine(empty_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    upgrade(empty_url)
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()


def test_downgrade_to_base_and_back(empty_url: str) -> None:
    from alembic import command

    from workers.store.session import alembic_config

    upgrade(empty_url)
    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
    finally:
        engine.dispose()
    assert current_revision(empty_url) is None
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()


def test_migrations_ship_inside_the_package() -> None:
    """No alembic.ini at the repo root is needed: the script folder is found from the package."""
    import workers.store.session as session_module

    versions = Path(session_module.__file__).parent / "migrations" / "versions"
    assert (versions / "0001_initial.py").is_file()


def test_unmatched_messages_listed_before_0013_are_kept(empty_url: str) -> None:
    """The inbox messages listed as audit events before the table existed stay listed."""
    details = {"reason": "no_code", "message_id": "<q@example.org>",
               "sender_domain": "example.org", "received_at": "2026-11-02T09:30:00+00:00",
               "attachments": 1}
    from alembic import command
    from sqlalchemy import insert, select

    from workers.store.models import AuditEvent
    from workers.store.returns_models import UnmatchedMessage
    from workers.store.session import alembic_config

    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0007_accounts")
            for _ in range(2):  # listed by two polls: one row
                conn.execute(insert(AuditEvent.__table__).values(
                    action="inbox.unmatched", actor="system", subject_type="message",
                    details=details))
        upgrade(empty_url)
        with engine.connect() as conn:
            rows = conn.execute(select(UnmatchedMessage.__table__)).all()
    finally:
        engine.dispose()
    assert len(rows) == 1
    row = rows[0]._mapping
    assert (row["message_id"], row["reason"], row["sender_domain"], row["attachments"]) == (
        "<q@example.org>", "no_code", "example.org", 1)
    assert row["dealt_with_at"] is None


def test_a_reply_is_matched_through_the_message_id_index(empty_url: str) -> None:
    """The inbox poll finds what a reply answers by ``lower(message_id)`` (returns.service,
    reviews.record_replies): the database reads it through the index, not every letter."""
    from sqlalchemy import func, select, text

    from workers.store.models import Dispatch

    upgrade(empty_url)
    engine = create_store_engine(empty_url)
    query = select(Dispatch.id).where(func.lower(Dispatch.message_id).in_(["<a@b.example>"]))
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table
                plan = " ".join(str(r[0]) for r in conn.execute(text("EXPLAIN " + sql)))
            else:
                plan = " ".join(str(r[-1]) for r in conn.execute(
                    text("EXPLAIN QUERY PLAN " + sql)))
    finally:
        engine.dispose()
    assert "ix_dispatches_message_id_lower" in plan, plan
