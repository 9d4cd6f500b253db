"""Users, their roles, and server-side sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.db import Base, UTCDateTime, created_at, enum_type, intpk
from referrals.models.agency import Agency


class Role(StrEnum):
    DESK_OFFICER = "desk_officer"
    SUPERVISOR = "supervisor"
    PARTNER = "partner"
    ADMINISTRATOR = "administrator"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class UserSession(Base):
    """One signed-in browser. The cookie carries a random token; only its hash is stored.

    Ending the row (sign-out, password change, disable, role change) makes any copy of the
    cookie worthless, which Flask's signed-cookie session alone cannot do.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[created_at]
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship(lazy="joined")
