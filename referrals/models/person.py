"""People, known only by pseudonym on the working records."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, created_at, enum_type, intpk


class PersonKind(StrEnum):
    CHILD = "child"
    ADULT = "adult"


class Person(Base):
    __tablename__ = "people"

    id: Mapped[intpk]
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[PersonKind] = mapped_column(enum_type(PersonKind, "kind"))
    # Keyed HMAC over normalised name and date of birth; NULL when there is too little to link on.
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
