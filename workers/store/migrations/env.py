"""Alembic environment: run through ``workers.store.session.upgrade``, which passes a connection.

``render_as_batch`` on SQLite so later migrations can alter tables (SQLite has little ALTER TABLE).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from workers.store.models import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (SQL script) migrations are not supported; use `iro db upgrade`")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    # e.g. `alembic -x url=...` by hand: open the store the same way the service does
    from workers.store.session import create_store_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("no database URL: use `iro db upgrade` or pass -x url=...")
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()


main()
