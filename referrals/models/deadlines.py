"""Deadline policies: which rule sets each clock, per agency kind and risk grade, from a date."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from referrals.calendars import RuleKind
from referrals.db import Base, created_at, enum_type, intpk
from referrals.models.agency import AgencyKind
from referrals.models.incident import RiskGrade


class DeadlineClock(StrEnum):
    """The clocks a policy can set. The desk's own triage clock belongs to the police desk;
    a partner agency has an acknowledgement clock and, where its profile says so, a decision
    clock that starts when the desk sends."""

    TRIAGE = "triage"
    ACKNOWLEDGE = "acknowledge"
    DECISION = "decision"

    @property
    def label(self) -> str:
        return {
            "triage": "Desk triage",
            "acknowledge": "Acknowledgement",
            "decision": "Decision on next steps",
        }[self.value]


class DeadlinePolicy(Base):
    """Agency kind x clock x risk grade -> a deadline rule, in force from a London date. A row
    with no risk grade covers every grade that has no row of its own; the newest row in force
    wins; older rows stay as history."""

    __tablename__ = "deadline_policies"

    id: Mapped[intpk]
    agency_kind: Mapped[AgencyKind] = mapped_column(enum_type(AgencyKind, "agency_kind"))
    clock: Mapped[DeadlineClock] = mapped_column(enum_type(DeadlineClock, "clock"))
    risk_grade: Mapped[RiskGrade | None] = mapped_column(enum_type(RiskGrade, "risk_grade"))
    rule_kind: Mapped[RuleKind] = mapped_column(enum_type(RuleKind, "rule_kind"))
    amount: Mapped[int] = mapped_column(Integer, default=1)
    effective_from: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[created_at]
