"""The escalation ladder: policy rows (data, per agency kind), the steps taken on each referral's
clocks and on the desk's own, phone chases, and the scheduler's heartbeat."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, UTCDateTime, enum_type, intpk, sealed
from referrals.models.agency import AgencyKind
from referrals.models.deadlines import DeadlineClock
from referrals.models.incident import DeskClock


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
    """When each step happens for an agency kind: working hours after the due time (elapsed
    hours for high risk). The reminder is at the due time itself."""

    __tablename__ = "escalation_policies"
    __table_args__ = (UniqueConstraint("agency_kind", "step"),)

    id: Mapped[intpk]
    agency_kind: Mapped[AgencyKind] = mapped_column(enum_type(AgencyKind, "agency_kind"))
    step: Mapped[EscalationStep] = mapped_column(enum_type(EscalationStep, "step"))
    hours_after_due: Mapped[int] = mapped_column(Integer)


class Escalation(Base):
    """One step taken on one clock of one referral. The unique constraint is the last line of
    defence for "once per step"; the claim on the referral is the first."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("referral_id", "clock", "step"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    clock: Mapped[DeadlineClock] = mapped_column(enum_type(DeadlineClock, "clock"))
    step: Mapped[EscalationStep] = mapped_column(enum_type(EscalationStep, "step"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recipients: Mapped[str] = mapped_column(String(1000))
    by: Mapped[str] = mapped_column(String(100))  # which scheduler process


class DeskEscalation(Base):
    """An incident the desk had not sent by one of its own deadlines, escalated to the
    supervisors. Once per clock: the claim on the incident first, this constraint last."""

    __tablename__ = "desk_escalations"
    __table_args__ = (UniqueConstraint("incident_id", "clock"),)

    id: Mapped[intpk]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    clock: Mapped[DeskClock] = mapped_column(enum_type(DeskClock, "clock"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recipients: Mapped[str] = mapped_column(String(1000))
    by: Mapped[str] = mapped_column(String(100))


class Chase(Base):
    """A supervisor's phone call to a partner about a referral."""

    __tablename__ = "chases"

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(40))
    note_sealed_id: Mapped[str | None] = sealed(1000)
