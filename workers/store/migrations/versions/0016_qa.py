"""Quality assurance: chairing observations and record audits (annual report §9.2-9.3).

Revision ID: 0016_qa
Revises: 0013_returns
Create Date: 2026-12-03
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_qa"
down_revision: str | None = "0013_returns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column[dt.datetime]]:
    return [sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(),
                      nullable=False) for name in ("created_at", "updated_at")]


def upgrade() -> None:
    op.create_table(
        "chairing_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iro_email", sa.String(length=320), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=320), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"],
                                name=op.f("fk_chairing_observations_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chairing_observations")),
    )
    op.create_index(op.f("ix_chairing_observations_iro_email"), "chairing_observations",
                    ["iro_email"])
    op.create_index(op.f("ix_chairing_observations_observed_on"), "chairing_observations",
                    ["observed_on"])
    op.create_table(
        "record_audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("iro_email", sa.String(length=320), nullable=False),
        sa.Column("audited_on", sa.Date(), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=320), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"],
                                name=op.f("fk_record_audits_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_audits")),
    )
    op.create_index(op.f("ix_record_audits_review_id"), "record_audits", ["review_id"])
    op.create_index(op.f("ix_record_audits_audited_on"), "record_audits", ["audited_on"])


def downgrade() -> None:
    op.drop_table("record_audits")
    op.drop_table("chairing_observations")
