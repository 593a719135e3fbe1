"""An index on ``lower(dispatches.message_id)``: every inbox message with Message-IDs it answers
is matched to the letter or draft record it replies to by that expression, which scanned every
letter ever sent without it.

Revision ID: 0019_message_id_index
Revises: 0018_list_columns
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_message_id_index"
down_revision: str | None = "0018_list_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dispatches_message_id_lower", "dispatches",
                    [sa.text("lower(message_id)")], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dispatches_message_id_lower", table_name="dispatches")
