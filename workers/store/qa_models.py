"""Quality assurance's tables (workers/qa): chairing observations and record audits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workers.store.base import Base, Timestamped


class ChairingObservation(Timestamped, Base):
    """The IRO manager watched an IRO chair a review (annual report §9.2: once a year at least)."""

    __tablename__ = "chairing_observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    iro_email: Mapped[str] = mapped_column(String(320), index=True)  # lower case
    observed_on: Mapped[dt.date] = mapped_column(Date, index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))  # the one chaired
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(320))


class RecordAudit(Timestamped, Base):
    """A review record audited against the agreed standards (annual report §9.3)."""

    __tablename__ = "record_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    iro_email: Mapped[str] = mapped_column(String(320))  # who wrote the record
    audited_on: Mapped[dt.date] = mapped_column(Date, index=True)
    # standard key → met | partly | not_met, and each standard's title as audited (audit.yaml
    # may be reworded later; the report labels an old audit as it was asked)
    ratings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    titles: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(320))
