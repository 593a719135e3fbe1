"""The stakeholder survey's tables (workers/survey): who was asked, apart from what was answered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from workers.store.base import Base, Timestamped


class Survey(Timestamped, Base):
    """A run of the stakeholder survey (annual report §9.4): who was asked is in its invitations,
    what they answered in its responses, with nothing linking the two."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # e.g. 2026-27
    period_start: Mapped[dt.date] = mapped_column(Date)  # reviews held from …
    period_end: Mapped[dt.date] = mapped_column(Date)  # … to, inclusive
    roles: Mapped[str] = mapped_column(String(100))  # comma-separated
    started_on: Mapped[dt.date] = mapped_column(Date, index=True)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    started_by: Mapped[str] = mapped_column(String(320), default="system")
    # the questions as asked (survey.yaml may change before next year's): role → title, questions
    questions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SurveyInvitation(Base):
    """One person asked: their questionnaire dispatch and one-time link. ``returned_on`` says
    they answered (so no reminder goes); it never says what they answered."""

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatches.id"), unique=True)
    reminder_dispatch_id: Mapped[int | None] = mapped_column(ForeignKey("dispatches.id"))
    salt: Mapped[str] = mapped_column(String(64))  # the link is HMAC(secret, salt)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the link token
    returned_on: Mapped[dt.date | None] = mapped_column(Date)


class SurveyResponse(Base):
    """One set of answers, anonymous: a random id, no time, no link to an invitation."""

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, so no order
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))  # web | paper
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # question key → answer
