"""The escalation ladder: policy rows (data), the steps taken on each referral, phone chases,
and the scheduler's heartbeat."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, UTCDateTime, enum_type, intpk


class EscalationStep(StrEnum):
    REMINDER = "reminder"  # to the agency's notice address, at the due time
    DUTY_MANAGER = "duty_manager"  # to the agency's duty manager contact
    SUPERVISOR = "supervisor"  # to the desk supervisors, in the app and by e-mail

    @property
    def label(self) -> str:
        return {
            "reminder": "Reminder to the agency",
            "duty_manager": "Escalated to duty manager",
            "supervisor": "Escalated to desk supervisors",
        }[self.value]

    @property
    def level(self) -> int:
        return list(EscalationStep).index(self) + 1


class EscalationPolicy(Base):
    """When each step happens: working hours after the due time (elapsed hours for high risk)."""

    __tablename__ = "escalation_policies"

    id: Mapped[intpk]
    step: Mapped[EscalationStep] = mapped_column(enum_type(EscalationStep, "step"), unique=True)
    hours_after_due: Mapped[int] = mapped_column(Integer)


class Escalation(Base):
    """One step taken on one referral. The unique constraint is the last line of defence for
    "once per step"; the claim on the referral is the first."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("referral_id", "step"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    step: Mapped[EscalationStep] = mapped_column(enum_type(EscalationStep, "step"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recipients: Mapped[str] = mapped_column(String(1000))
    by: Mapped[str] = mapped_column(String(100))  # which scheduler process


class Chase(Base):
    """A supervisor's phone call to a partner about a referral."""

    __tablename__ = "chases"

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(40))
    note_sealed_id: Mapped[str | None] = mapped_column(ForeignKey("sealed_values.id"))


class Heartbeat(Base):
    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sweeps: Mapped[int] = mapped_column(Integer, default=0)
