"""Referrals: one per subject (a child, or a victim for MARAC) per partner agency."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.db import Base, UTCDateTime, enum_type, intpk
from referrals.models.agency import Agency
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.routing import RuleCode


class ReferralState(StrEnum):
    SENT = "sent"
    VIEWED = "viewed"
    ACKNOWLEDGED = "acknowledged"
    DECIDED = "decided"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def awaiting_acknowledgement(self) -> bool:
        return self in (ReferralState.SENT, ReferralState.VIEWED)

    @property
    def closed(self) -> bool:
        return self in (ReferralState.DECIDED, ReferralState.DECLINED, ReferralState.WITHDRAWN)


AWAITING = (ReferralState.SENT, ReferralState.VIEWED)
OPEN_STATES = (ReferralState.SENT, ReferralState.VIEWED, ReferralState.ACKNOWLEDGED)


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("incident_id", "subject_id", "agency_id"),
        Index("ix_referrals_inbox", "agency_id", "sent_at", "id"),
        # Covering: the board and the tab counts read open work from these alone.
        Index("ix_referrals_agency_due", "agency_id", "state", "due_at", "paused_at"),
        Index("ix_referrals_due", "state", "due_at", "paused_at", "agency_id"),
        Index("ix_referrals_escalation", "next_escalation_at"),
        # Partial: only paused rows, so no plan for "paused_at IS NULL" can pick it.
        Index(
            "ix_referrals_paused",
            "paused_at",
            sqlite_where=text("paused_at IS NOT NULL"),
            postgresql_where=text("paused_at IS NOT NULL"),
        ),
    )

    id: Mapped[intpk]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("incident_people.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    rule_code: Mapped[RuleCode] = mapped_column(enum_type(RuleCode, "rule_code"))
    state: Mapped[ReferralState] = mapped_column(enum_type(ReferralState, "state"))
    known_to_social_care: Mapped[bool] = mapped_column(Boolean, default=False)
    # Optimistic concurrency: every transition is UPDATE ... WHERE id = ? AND version = ?.
    version: Mapped[int] = mapped_column(Integer, default=1)

    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_rule: Mapped[str] = mapped_column(String(80))
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(40))
    decision_note_sealed_id: Mapped[str | None] = mapped_column(ForeignKey("sealed_values.id"))
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decline_reason_sealed_id: Mapped[str | None] = mapped_column(ForeignKey("sealed_values.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pause_reason: Mapped[str | None] = mapped_column(String(500))
    # The escalation ladder, swept by the scheduler: the level reached and when the next step is
    # due (NULL when there is none). Claims are compare-and-set on escalation_level.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    incident: Mapped[Incident] = relationship(lazy="joined")
    subject: Mapped[IncidentPerson] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")

    def overdue(self, now: datetime) -> bool:
        return self.state.awaiting_acknowledgement and self.paused_at is None and self.due_at < now


class ReferralEvent(Base):
    """The referral's own history (what the desk and the partner see); the audit trail holds the
    tamper-evident record."""

    __tablename__ = "referral_events"

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)  # non-identifying: an outcome, a new due time


class ReferralMessage(Base):
    """A request for more information and its answers, between the partner and the desk."""

    __tablename__ = "referral_messages"

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_label: Mapped[str] = mapped_column(String(254))
    from_desk: Mapped[bool] = mapped_column(Boolean)
    body_sealed_id: Mapped[str] = mapped_column(ForeignKey("sealed_values.id"))
