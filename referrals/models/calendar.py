"""School calendars: the days a borough's schools, or one school, are closed."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, borough_code, created_at, enum_type, intpk


class ClosureKind(StrEnum):
    TERM_BREAK = "term_break"
    INSET = "inset"
    CLOSURE = "closure"

    @property
    def label(self) -> str:
        return {"term_break": "Term break", "inset": "INSET day", "closure": "Closure"}[self.value]


class SchoolClosure(Base):
    """Days a borough's schools, or one school, are closed (inclusive London dates)."""

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
