"""Reviews of what the desk keeps (Management of Police Information): a decision to keep an
incident is recorded with its rationale and the date of its next review."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, UTCDateTime, intpk


class RetentionReview(Base):
    """One decision to retain. Deleted with its incident when the incident is disposed of (the
    rationale is free text about the case); the audit trail keeps that it was decided, by whom."""

    __tablename__ = "retention_reviews"

    id: Mapped[intpk]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rationale: Mapped[str] = mapped_column(Text, info={"max_length": 2000})
    next_review_on: Mapped[date] = mapped_column(Date)
