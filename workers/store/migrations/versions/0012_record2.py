"""Each review decision's date (read from its timescale) and its progress as the next review
recorded it, so the annual report can count decisions overdue (issue 15 §1).

Revision ID: 0012_record2
Revises: 0016_qa
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_record2"
down_revision: str | None = "0016_qa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review_decisions") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("progress", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("done", sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.create_index("ix_review_decisions_due_on", ["due_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_decisions") as batch:
        batch.drop_index("ix_review_decisions_due_on")
        batch.drop_column("done")
        batch.drop_column("progress")
        batch.drop_column("due_on")
