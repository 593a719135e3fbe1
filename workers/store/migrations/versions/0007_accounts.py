"""Accounts that can be taken away: an OIDC person's immutable id bound to their account, and
when a session was last used (the idle timeout). Indexes for the web lists' filters and sorts
(planned reviews by meeting or statutory date, children by team).

Revision ID: 0007_accounts
Revises: 0008_ssda903
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_accounts"
down_revision: str | None = "0008_ssda903"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (("reviews", "status"), ("reviews", "scheduled_at"), ("reviews", "due_on"),
           ("children", "team"))


def upgrade() -> None:
    # batch: SQLite adds a unique constraint only by rebuilding the table
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("oidc_subject", sa.String(length=400), nullable=True))
        batch.create_unique_constraint(op.f("uq_web_users_oidc_subject"), ["oidc_subject"])
    op.add_column("web_sessions",
                  sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    op.drop_column("web_sessions", "last_seen_at")
    with op.batch_alter_table("web_users") as batch:
        batch.drop_constraint(op.f("uq_web_users_oidc_subject"), type_="unique")
        batch.drop_column("oidc_subject")
