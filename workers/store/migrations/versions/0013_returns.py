"""Returns after a mail-out (issue 16 §3) and print batches voided or reprinted (§1).

``returns``: one email may return several children's forms (``source_message_id`` no longer
unique); the sender of an emailed return, and whether a person must confirm it came from the
participant. ``unmatched_messages``: inbox messages left for a person, with a "dealt with" mark.
Messages listed before (``inbox.unmatched`` audit events) are copied in, not yet dealt with.
``form_code_reservations``: the codes a dry run printed, used by the real mail-out.
``print_batches``: voided (with why) and how many times reprinted.

Revision ID: 0013_returns
Revises: 0007_accounts
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_returns"
down_revision: str | None = "0007_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column[object]]:
    return [sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(),
                      nullable=False) for name in ("created_at", "updated_at")]


def upgrade() -> None:
    with op.batch_alter_table("returns") as batch:
        batch.drop_constraint(op.f("uq_returns_source_message_id"), type_="unique")
        batch.create_index(op.f("ix_returns_source_message_id"), ["source_message_id"])
        batch.add_column(sa.Column("sender", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("needs_confirmation", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("confirmed_by", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("print_batches") as batch:
        batch.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reprints", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.create_table(
        "unmatched_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=400), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sender_domain", sa.String(length=100), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.Column("codes", sa.String(length=400), nullable=False),
        sa.Column("dealt_with_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dealt_with_by", sa.String(length=320), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_unmatched_messages_message_id")),
    )
    op.create_index(op.f("ix_unmatched_messages_dealt_with_at"), "unmatched_messages",
                    ["dealt_with_at"])
    _copy_listed()
    op.create_table(
        "form_code_reservations",
        sa.Column("letter_key", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("letter_key", name=op.f("pk_form_code_reservations")),
        sa.UniqueConstraint("code", name=op.f("uq_form_code_reservations_code")),
    )


def _copy_listed() -> None:
    """The messages the poll listed before this table (their audit events), once each."""
    import datetime as dt
    import json

    events = sa.table("audit_events", sa.column("at", sa.DateTime(timezone=True)),
                      sa.column("action", sa.String()), sa.column("details", sa.JSON()))
    target = sa.table("unmatched_messages", *[sa.column(n) for n in (
        "message_id", "reason", "received_at", "sent_at", "sender_domain", "attachments",
        "codes")])

    def when(value: object) -> dt.datetime | None:
        try:
            moment = dt.datetime.fromisoformat(str(value)) if value else None
        except ValueError:
            return None
        return moment.replace(tzinfo=moment.tzinfo or dt.UTC) if moment else None

    rows: dict[str, dict[str, object]] = {}
    bind = op.get_bind()
    for at, details in bind.execute(sa.select(events.c.at, events.c.details).where(
            events.c.action == "inbox.unmatched").order_by(events.c.at)):
        info = json.loads(details) if isinstance(details, str) else dict(details or {})
        message_id = str(info.get("message_id") or "")[:400]
        if message_id and message_id not in rows:
            rows[message_id] = {
                "message_id": message_id, "reason": str(info.get("reason") or "no_code")[:40],
                "received_at": when(info.get("received_at")) or when(at),
                "sent_at": when(info.get("sent_at")),
                "sender_domain": str(info.get("sender_domain") or "")[:100],
                "attachments": int(info.get("attachments") or 0), "codes": ""}
    if rows:
        bind.execute(target.insert(), list(rows.values()))


def downgrade() -> None:
    op.drop_table("form_code_reservations")
    op.drop_index(op.f("ix_unmatched_messages_dealt_with_at"), table_name="unmatched_messages")
    op.drop_table("unmatched_messages")
    with op.batch_alter_table("print_batches") as batch:
        batch.drop_column("reprints")
        batch.drop_column("void_reason")
        batch.drop_column("voided_at")
    with op.batch_alter_table("returns") as batch:
        batch.drop_column("confirmed_at")
        batch.drop_column("confirmed_by")
        batch.drop_column("needs_confirmation")
        batch.drop_column("sender")
        batch.drop_index(op.f("ix_returns_source_message_id"))
        batch.create_unique_constraint(op.f("uq_returns_source_message_id"),
                                       ["source_message_id"])
