"""The tracking store's tables (SQLAlchemy 2.0, typed).

The store is the truth: a dispatch row exists before anything is enqueued, and the queue only
carries its id. Timestamps are timezone-aware (UTC); calendar dates are plain dates.
Changing a table means a new Alembic migration in ``workers/store/migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workers.core.clock import wall_now
from workers.store.base import Base, Timestamped, UtcDateTime


class Child(Timestamped, Base):
    """A looked after child, as the case-management system knows them."""

    __tablename__ = "children"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    given_name: Mapped[str] = mapped_column(String(300))
    family_name: Mapped[str] = mapped_column(String(300))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    # indexed for the annual report's looked-after population sweep (migration 0002)
    looked_after_since: Mapped[dt.date] = mapped_column(Date, index=True)
    ceased_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    team: Mapped[str] = mapped_column(String(120), index=True)
    iro_email: Mapped[str] = mapped_column(String(320))
    placement: Mapped[str] = mapped_column(Text, default="")
    legal_status: Mapped[str] = mapped_column(String(120), default="")
    # the child's next review as the deadline rules give it (deadline_queries.next_review_of),
    # stored so the caseload and overdue lists sort, filter and page in SQL; due_basis is the
    # rules' and calendar's fingerprint it was worked out under, NULL once an input changed
    # (workers.store.next_review keeps it up to date; migration 0018)
    next_review_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    next_review_id: Mapped[int | None] = mapped_column(Integer)
    due_basis: Mapped[str | None] = mapped_column(String(64))

    reviews: Mapped[list[Review]] = relationship(back_populates="child", order_by="Review.id")

    @property
    def initials(self) -> str:
        return f"{self.given_name[:1]}.{self.family_name[:1]}.".upper()


class Review(Timestamped, Base):
    """One statutory (or earlier, requested) review of a child's care plan."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)  # 1st, 2nd, 3rd… review of this child
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)  # latest date allowed by reg 33
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # meeting date, time
    venue: Mapped[str] = mapped_column(Text, default="")
    iro_email: Mapped[str] = mapped_column(String(320))
    # planned → held → recorded; or cancelled
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    requested_early: Mapped[bool] = mapped_column(Boolean, default=False)
    held_on: Mapped[dt.date | None] = mapped_column(Date, index=True)  # report by year
    participation: Mapped[str | None] = mapped_column(String(3))  # SSDA903 PN0…PN7
    in_timescale: Mapped[bool | None]
    days_late: Mapped[int | None]
    decisions_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_on: Mapped[dt.date | None] = mapped_column(Date)
    # the placement address is withheld from some participants (migration 0005; issue 16)
    placement_confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    # the completed record the IRO returned, kept with the case (migration 0006_record)
    record_file: Mapped[str | None] = mapped_column(Text)

    child: Mapped[Child] = relationship(back_populates="reviews")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="review", order_by="Participant.id"
    )


class ReviewDecision(Timestamped, Base):
    """One decision of a review, read back from the completed record's SMART table, so the next
    review's draft carries it with a column for progress (issue 15 §1)."""

    __tablename__ = "review_decisions"
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(Text, default="")  # the desired outcome
    action: Mapped[str] = mapped_column(Text, default="")
    responsible: Mapped[str] = mapped_column(Text, default="")
    timescale: Mapped[str] = mapped_column(Text, default="")
    indicator: Mapped[str] = mapped_column(Text, default="")  # how we will know it worked
    # the timescale as a date where it names one ("by 15 January 2027", "within 6 weeks")
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # as the next review's record reports it (its "Decisions of the previous review" table)
    progress: Mapped[str] = mapped_column(Text, default="")
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class Participant(Timestamped, Base):
    """Someone invited to a review, from the case record. Recipients come only from here."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("review_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    ref: Mapped[str] = mapped_column(String(40))  # stable id from the case-management export
    # child, parent, carer, social_worker, guardian, other
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(300), default="")
    relationship_to_child: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    email_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str | None] = mapped_column(Text)  # lines separated by newlines
    postcode: Mapped[str | None] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(10))  # email | post
    attended: Mapped[bool | None]
    # removed from the case (migration 0005): pending letters cancelled, nothing more planned
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    # the placement address withheld from them: None means by role (workers.casework.confidential)
    placement_withheld: Mapped[bool | None] = mapped_column(Boolean)

    review: Mapped[Review] = relationship(back_populates="participants")


class Dispatch(Timestamped, Base):
    """The outbox: one document (or message) to one recipient.

    ``key`` is unique and deterministic (e.g. ``R-1042/invitation/P-3``) so planning twice never
    creates a second row. States: pending → queued → sending → sent; or failed / bounced /
    cancelled.
    """

    __tablename__ = "dispatches"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # email | post
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"))
    recipient: Mapped[str] = mapped_column(String(320), default="")  # address, or "post"
    # what it went to: the email address, or the postal lines and postcode printed (0005)
    sent_to: Mapped[str | None] = mapped_column(Text)
    reference_code: Mapped[str | None] = mapped_column(String(40), unique=True)
    due_at: Mapped[dt.datetime]  # always set from the caller's clock: a default would be the wall's
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # return rates by year
    message_id: Mapped[str | None] = mapped_column(String(400))
    last_error: Mapped[str | None] = mapped_column(Text)
    print_batch_id: Mapped[int | None] = mapped_column(ForeignKey("print_batches.id"))
    # ids and small facts the renderer needs (never personal data: that is read from the case)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# a reply is matched to what it answers by its Message-ID, whatever the case (migration 0019)
Index("ix_dispatches_message_id_lower", func.lower(Dispatch.message_id))


class PrintBatch(Timestamped, Base):
    __tablename__ = "print_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_date: Mapped[dt.date] = mapped_column(Date)
    pdf_path: Mapped[str] = mapped_column(Text, default="")
    manifest_path: Mapped[str] = mapped_column(Text, default="")
    printed_at: Mapped[dt.datetime | None]
    # voided: its letters went back to wait for the next batch (migration 0013_returns)
    voided_at: Mapped[dt.datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    reprints: Mapped[int] = mapped_column(Integer, default=0)


class Return(Timestamped, Base):
    """A consultation form that came back, by email or by post."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatches.id"), unique=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))  # email | post
    # one email may return several children's forms, one Return each (migration 0013_returns)
    source_message_id: Mapped[str | None] = mapped_column(String(400), index=True)
    file_path: Mapped[str | None] = mapped_column(Text)
    # the address an emailed return came from; one that is not the participant's is filed but
    # waits for a person to confirm it (issue 16 §3)
    sender: Mapped[str | None] = mapped_column(String(320))
    needs_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by: Mapped[str | None] = mapped_column(String(320))
    confirmed_at: Mapped[dt.datetime | None]


class Deadline(Timestamped, Base):
    """A date something must happen by: a statutory review, a write-up, an escalation response."""

    __tablename__ = "deadlines"
    # the open ones by kind and date: the overdue lists and caseloads (migration 0018)
    __table_args__ = (Index("ix_deadlines_open", "met_on", "kind", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # review_due, decisions, record, escalation_response
    kind: Mapped[str] = mapped_column(String(40))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    started_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    statutory: Mapped[bool] = mapped_column(Boolean, default=False)
    met_on: Mapped[dt.date | None] = mapped_column(Date)
    working_days_taken: Mapped[int | None]
    in_time: Mapped[bool | None]


class MidwayCheck(Timestamped, Base):
    """The IRO's midway check between reviews (annual report 2013-14 §7.3): are the decisions
    being carried out? Meets the ``midway`` deadline of the review it follows."""

    __tablename__ = "midway_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), unique=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    checked_on: Mapped[dt.date] = mapped_column(Date, index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # on_track | concern
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(320))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"))


class Escalation(Timestamped, Base):
    """An IRO's formal challenge (dispute resolution), moving up stages until the IRO closes it."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_status_due", "status", "response_due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    iro_email: Mapped[str] = mapped_column(String(320))
    category: Mapped[str] = mapped_column(String(60))
    concern: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | resolved
    raised_on: Mapped[dt.date] = mapped_column(Date, index=True)  # report by year
    stage_started_on: Mapped[dt.date] = mapped_column(Date)
    response_due_on: Mapped[dt.date | None] = mapped_column(Date)
    cafcass_referred_on: Mapped[dt.date | None] = mapped_column(Date)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    resolved_stage: Mapped[str | None] = mapped_column(String(40))
    resolved_by: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str | None] = mapped_column(Text)

    steps: Mapped[list[EscalationStep]] = relationship(order_by="EscalationStep.id")


class EscalationStep(Base):
    """One thing that happened to an escalation: raised, responded, advanced, referred, resolved."""

    __tablename__ = "escalation_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str] = mapped_column(String(40))
    on: Mapped[dt.date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(320), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=wall_now)


class AuditEvent(Base):
    """Every send, print, return and escalation step. Details carry ids, never names or text."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=wall_now, index=True)
    action: Mapped[str] = mapped_column(String(60))  # e.g. dispatch.sent, return.recorded
    actor: Mapped[str] = mapped_column(String(320), default="system")
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ServiceState(Base):
    """Small facts shared by every worker: e.g. sending paused after an authentication failure."""

    __tablename__ = "service_state"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=wall_now, onupdate=wall_now)


class CarePeriod(Timestamped, Base):
    __tablename__ = "care_periods"  # 903 Episodes: an RNE S to the last DEC; reg 33 restarts
    __table_args__ = (UniqueConstraint("child_id", "started_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)


# Every table on Base.metadata once this module is imported (the migrations compare against it),
# and the names where callers have always found them.
from workers.store.qa_models import ChairingObservation, RecordAudit  # noqa: E402
from workers.store.returns_models import (  # noqa: E402
    CodeReservation,
    RecordReply,
    UnmatchedMessage,
)
from workers.store.survey_models import Survey, SurveyInvitation, SurveyResponse  # noqa: E402
from workers.store.web_models import SignInFailure, WebSession, WebUser  # noqa: E402

__all__ = [
    "Base", "CarePeriod", "ChairingObservation", "Child", "CodeReservation", "Deadline", "Dispatch",
    "Escalation", "EscalationStep", "MidwayCheck", "AuditEvent", "Participant", "PrintBatch",
    "RecordAudit", "RecordReply", "Return", "Review", "ReviewDecision", "ServiceState",
    "SignInFailure", "Survey", "SurveyInvitation", "SurveyResponse", "Timestamped",
    "UnmatchedMessage", "UtcDateTime", "WebSession", "WebUser",
]
