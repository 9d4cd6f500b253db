"""Routing rules (configuration as data, with dates) and the desk's changes to a proposal."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, UTCDateTime, created_at, enum_type, intpk


class RuleCode(StrEnum):
    """What each routing rule does is code; whether it applies, and from when, is data."""

    CHILD_TO_SOCIAL_CARE = "child_to_social_care"
    CHILD_TO_SCHOOL = "child_to_school"
    HOME_EDUCATED_TO_SOCIAL_CARE = "home_educated_to_social_care"
    HIGH_RISK_VICTIM_TO_MARAC = "high_risk_victim_to_marac"
    MANUAL = "manual"

    @property
    def label(self) -> str:
        return RULE_LABELS[self]


RULE_LABELS = {
    RuleCode.CHILD_TO_SOCIAL_CARE: "Each child to the children's social care front door of the "
    "borough where the child lives",
    RuleCode.CHILD_TO_SCHOOL: "Each child at a school or setting to its safeguarding lead "
    "(Operation Encompass)",
    RuleCode.HOME_EDUCATED_TO_SOCIAL_CARE: "An electively home-educated child to the borough's "
    "children's social care instead of a school",
    RuleCode.HIGH_RISK_VICTIM_TO_MARAC: "A high-risk adult victim (16 or over) to the borough's "
    "MARAC coordinator",
    RuleCode.MANUAL: "Added by the desk officer",
}


class RoutingRule(Base):
    __tablename__ = "routing_rules"

    id: Mapped[intpk]
    code: Mapped[RuleCode] = mapped_column(enum_type(RuleCode, "code"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[created_at]

    def applies_on(self, day: date) -> bool:
        return (
            self.active
            and self.effective_from <= day
            and (self.effective_to is None or day <= self.effective_to)
        )


class RoutingChange(Base):
    """A desk officer's change to the proposed routing of an incident, before it is sent."""

    __tablename__ = "routing_changes"

    id: Mapped[intpk]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("incident_people.id"))
    # No agency: the officer recorded why a child gets no children's social care referral.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    added: Mapped[bool] = mapped_column(Boolean)  # True: added; False: removed (or waived)
    reason: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
