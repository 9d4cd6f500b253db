"""Users, their roles, and server-side sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.db import Base, UTCDateTime, created_at, enum_type, intpk, sealed
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


class Stage(StrEnum):
    """How far a sign-in has come. Until ``full`` nothing but the second-factor step (and
    sign-out) can be reached."""

    FACTOR = "factor"  # password correct; the second factor is still to come
    ENROL = "enrol"  # password correct; no second factor yet: one is enrolled first
    FULL = "full"


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
    stage: Mapped[Stage] = mapped_column(enum_type(Stage, "stage"), default=Stage.FULL)
    # While enrolling: the TOTP secret offered (sealed), and a WebAuthn ceremony's challenge.
    pending_secret_sealed_id: Mapped[str | None] = sealed()
    challenge: Mapped[str | None] = mapped_column(String(128))

    user: Mapped[User] = relationship(lazy="joined")


class FactorKind(StrEnum):
    TOTP = "totp"
    WEBAUTHN = "webauthn"

    @property
    def label(self) -> str:
        return {"totp": "Authenticator app", "webauthn": "Security key or passkey"}[self.value]


class UserFactor(Base):
    """A second factor: an authenticator app (its secret sealed; the last time step accepted,
    so that a code is accepted once) or a WebAuthn credential (its public key and counter)."""

    __tablename__ = "user_factors"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[FactorKind] = mapped_column(enum_type(FactorKind, "kind"))
    label: Mapped[str] = mapped_column(String(60))
    secret_sealed_id: Mapped[str | None] = sealed()
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    credential_id: Mapped[str | None] = mapped_column(String(400), unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created_at]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecoveryCode(Base):
    """A single-use code for when the factor is lost: shown once, stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TokenPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - the name of a purpose, not a secret


class AccountToken(Base):
    """A single-use, expiring link sent by e-mail (an invitation, a password reset). Only the
    token's hash is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose, "purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Attempt(Base):
    """A failed guess (a password, a second factor) or a request worth limiting (a password
    reset), by scope and key (an account, an address). Kept in the database, so every web worker
    and host counts the same guesses."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_lookup", "scope", "key", "at"),)

    id: Mapped[intpk]
    scope: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
