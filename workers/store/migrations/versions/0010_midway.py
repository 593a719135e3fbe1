"""Midway checks between reviews (annual report 2013-14 §7.3).

Revision ID: 0010_midway
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_midway"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "midway_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=320), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(["deadline_id"], ["deadlines.id"],
                                name=op.f("fk_midway_checks_deadline_id_deadlines")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"],
                                name=op.f("fk_midway_checks_review_id_reviews")),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"],
                                name=op.f("fk_midway_checks_escalation_id_escalations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_midway_checks")),
        sa.UniqueConstraint("deadline_id", name=op.f("uq_midway_checks_deadline_id")),
    )
    op.create_index(op.f("ix_midway_checks_review_id"), "midway_checks", ["review_id"])
    op.create_index(op.f("ix_midway_checks_checked_on"), "midway_checks", ["checked_on"])


def downgrade() -> None:
    op.drop_index(op.f("ix_midway_checks_checked_on"), table_name="midway_checks")
    op.drop_index(op.f("ix_midway_checks_review_id"), table_name="midway_checks")
    op.drop_table("midway_checks")
