"""The IRO's reply to the draft record email with the completed record attached, held until
the IRO confirms it signed in (issue 15 §1). No sender address is kept.

Revision ID: 0017_record_replies
Revises: 0012_record2
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_record_replies"
down_revision: str | None = "0012_record2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("dispatch_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=400), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"],
                                name=op.f("fk_record_replies_review_id_reviews")),
        sa.ForeignKeyConstraint(["dispatch_id"], ["dispatches.id"],
                                name=op.f("fk_record_replies_dispatch_id_dispatches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_replies")),
        sa.UniqueConstraint("message_id", name=op.f("uq_record_replies_message_id")),
    )
    op.create_index(op.f("ix_record_replies_review_id"), "record_replies", ["review_id"])
    op.create_index(op.f("ix_record_replies_state"), "record_replies", ["state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_record_replies_state"), table_name="record_replies")
    op.drop_index(op.f("ix_record_replies_review_id"), table_name="record_replies")
    op.drop_table("record_replies")
