"""Periods of care imported from the SSDA903 return (`iro import 903`).

Revision ID: 0008_ssda903
Revises: 0006_record
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_ssda903"
down_revision: str | None = "0006_record"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"],
                                name=op.f("fk_care_periods_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_periods")),
        sa.UniqueConstraint("child_id", "started_on",
                            name=op.f("uq_care_periods_child_id_started_on")),
    )
    op.create_index(op.f("ix_care_periods_child_id"), "care_periods", ["child_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_care_periods_child_id"), table_name="care_periods")
    op.drop_table("care_periods")
