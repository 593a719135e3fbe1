"""Each child's next review stored for the caseload and overdue lists (worked out by the deadline
rules, kept current by ``workers.store.next_review``), and indexes for the lists that filter and
sort on open deadlines and open escalations in SQL (issue 18 §1).

The new columns start empty (``due_basis`` NULL): the first list read works every child's date
out by the rules.

Revision ID: 0018_list_columns
Revises: 0017_record_replies
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_list_columns"
down_revision: str | None = "0017_record_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("next_review_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("next_review_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("due_basis", sa.String(length=64), nullable=True))
        batch.create_index("ix_children_next_review_due", ["next_review_due"], unique=False)
    op.create_index("ix_deadlines_open", "deadlines", ["met_on", "kind", "due_on"], unique=False)
    op.create_index("ix_escalations_status_due", "escalations", ["status", "response_due_on"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_escalations_status_due", table_name="escalations")
    op.drop_index("ix_deadlines_open", table_name="deadlines")
    with op.batch_alter_table("children") as batch:
        batch.drop_index("ix_children_next_review_due")
        batch.drop_column("due_basis")
        batch.drop_column("next_review_id")
        batch.drop_column("next_review_due")
