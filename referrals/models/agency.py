"""Partner agencies and the police desk itself."""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, borough_code, created_at, enum_type, intpk


class AgencyKind(StrEnum):
    POLICE_DESK = "police_desk"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    SCHOOL = "school"
    HEALTH = "health"
    MARAC = "marac"
    OTHER = "other"

    @property
    def label(self) -> str:
        return AGENCY_KIND_LABELS[self]


AGENCY_KIND_LABELS = {
    AgencyKind.POLICE_DESK: "Police referrals desk",
    AgencyKind.CHILDRENS_SOCIAL_CARE: "Children's social care front door",
    AgencyKind.SCHOOL: "School or setting",
    AgencyKind.HEALTH: "Health",
    AgencyKind.MARAC: "MARAC coordinator",
    AgencyKind.OTHER: "Other",
}


class Agency(Base):
    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint("(kind = 'school') = (school_urn IS NOT NULL)", name="school_has_urn"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AgencyKind] = mapped_column(enum_type(AgencyKind, "kind"))
    borough_code: Mapped[borough_code | None] = mapped_column(index=True)
    school_urn: Mapped[str | None] = mapped_column(String(6), unique=True)
    notice_email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Working hours (Europe/London) for deadlines and quiet hours; a school's day start.
    work_start: Mapped[time] = mapped_column(Time, default=time(9, 0))
    work_end: Mapped[time] = mapped_column(Time, default=time(17, 0))
    school_day_start: Mapped[time | None] = mapped_column(Time)
    duty_manager_email: Mapped[str | None] = mapped_column(String(254))
    # A number the desk can ring (the desk phones a school before the child arrives).
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<Agency {self.code} {self.kind.value}>"
