"""Indexes for the annual report's by-year filters (iro report).

A store holds many years; without these every report scans every review, child, form and
escalation ever recorded.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("children", "looked_after_since"),
    ("children", "ceased_on"),
    ("reviews", "held_on"),
    ("dispatches", "sent_at"),
    ("escalations", "raised_on"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
