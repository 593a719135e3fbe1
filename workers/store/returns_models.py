"""Returns' own tables (issue 16 §3): inbox messages left for a person, form codes a dry run
showed, kept for the real mail-out, and the IRO's emailed records awaiting confirmation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
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


class RecordReply(Timestamped, Base):
    """The IRO's reply to the draft record email with the completed record attached (issue 15
    §1): held, its file kept apart from accepted records, until the IRO confirms it signed in
    ("This is my record") or discards it; deleted unconfirmed after ``record_reply_days``.
    No sender address: the poll held it only because it came from the review's IRO."""

    __tablename__ = "record_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatches.id"))  # the draft's email
    message_id: Mapped[str] = mapped_column(String(400), unique=True)  # the reply's
    file_path: Mapped[str | None] = mapped_column(Text)  # None once confirmed or deleted
    received_at: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(20), default="held", index=True)
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(320))  # who confirmed or discarded
