"""Returns' own tables (issue 16 §3): inbox messages left for a person, and form codes a
dry run showed, kept for the real mail-out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workers.store.base import Base, Timestamped


class UnmatchedMessage(Timestamped, Base):
    """An inbox message the poll could not file: a person reads it in the mailbox and marks it
    dealt with here. Dates, the sender's domain and counts only (the subject may name a child)."""

    __tablename__ = "unmatched_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(400), unique=True)
    reason: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    sender_domain: Mapped[str] = mapped_column(String(100), default="")
    attachments: Mapped[int] = mapped_column(default=0)
    codes: Mapped[str] = mapped_column(String(400), default="")  # form codes it quoted
    dealt_with_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    dealt_with_by: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)


class CodeReservation(Base):
    """A form code a dry run printed, so the real mail-out of that letter uses the same one."""

    __tablename__ = "form_code_reservations"

    letter_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    reserved_at: Mapped[dt.datetime]
