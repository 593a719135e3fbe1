"""Casework after a mail-out: the address a letter went to; withdrawn participants.

``dispatches.sent_to``: the exact email address, or postal address lines and postcode, a letter
went to (DESIGN.md §6: "a letter records the exact address or email it went to"), filled when it
is sent or put in a print batch. ``participants.withdrawn_on``: the day a person was removed from
the case; their pending letters are cancelled and they are invited to nothing more.
``reviews.placement_confidential`` and ``participants.placement_withheld``: a placement address
withheld from a participant by court order or for safety (workers.casework.confidential).

Revision ID: 0005_casework
Revises: 0011_survey
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_casework"
down_revision: str | None = "0011_survey"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dispatches") as batch:
        batch.add_column(sa.Column("sent_to", sa.Text(), nullable=True))
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("withdrawn_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("placement_withheld", sa.Boolean(), nullable=True))
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("placement_confidential", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("placement_confidential")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("placement_withheld")
        batch.drop_column("withdrawn_on")
    with op.batch_alter_table("dispatches") as batch:
        batch.drop_column("sent_to")
