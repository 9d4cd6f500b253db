"""Routing rules, deadline policies and school closures: configuration as data, with dates."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from referrals.calendars import RuleKind
from referrals.db import Base, UTCDateTime, borough_code, created_at, enum_type, intpk
from referrals.models.agency import AgencyKind
from referrals.models.incident import RiskGrade


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


class DeadlinePolicy(Base):
    """Agency kind x risk grade -> a deadline rule. A row with no risk grade covers every grade
    that has no row of its own."""

    __tablename__ = "deadline_policies"

    id: Mapped[intpk]
    agency_kind: Mapped[AgencyKind] = mapped_column(enum_type(AgencyKind, "agency_kind"))
    risk_grade: Mapped[RiskGrade | None] = mapped_column(enum_type(RiskGrade, "risk_grade"))
    rule_kind: Mapped[RuleKind] = mapped_column(enum_type(RuleKind, "rule_kind"))
    amount: Mapped[int] = mapped_column(Integer, default=1)
    effective_from: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[created_at]


class ClosureKind(StrEnum):
    TERM_BREAK = "term_break"
    INSET = "inset"
    CLOSURE = "closure"

    @property
    def label(self) -> str:
        return {"term_break": "Term break", "inset": "INSET day", "closure": "Closure"}[self.value]


class SchoolClosure(Base):
    """Days a borough's schools, or one school, are closed (inclusive dates)."""

    __tablename__ = "school_closures"
    __table_args__ = (
        CheckConstraint("(borough_code IS NULL) <> (school_id IS NULL)", name="one_scope"),
        CheckConstraint("starts_on <= ends_on", name="ordered"),
    )

    id: Mapped[intpk]
    borough_code: Mapped[borough_code | None] = mapped_column(index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[ClosureKind] = mapped_column(enum_type(ClosureKind, "kind"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[created_at]


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
