"""Systems around the desk that use its API: a police intake system, or one partner agency's
case system. Each holds one bearer token, shown once and stored as a hash."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.db import Base, UTCDateTime, created_at, enum_type, intpk, sealed
from referrals.models.agency import Agency


class ApiScope(StrEnum):
    NOTIFICATIONS_WRITE = "notifications:write"  # send notifications of incidents
    NOTIFICATIONS_READ = "notifications:read"  # read back their routing state
    REFERRALS_READ = "referrals:read"  # list and open the agency's referrals
    REFERRALS_WRITE = "referrals:write"  # acknowledge, decline, decide, ask; webhooks

    @property
    def label(self) -> str:
        return {
            ApiScope.NOTIFICATIONS_WRITE: "Send notifications",
            ApiScope.NOTIFICATIONS_READ: "Read their routing state",
            ApiScope.REFERRALS_READ: "List and open the agency's referrals",
            ApiScope.REFERRALS_WRITE: "Acknowledge, decline, decide and ask; webhooks",
        }[self]


class ApiClientKind(StrEnum):
    POLICE_INTAKE = "police_intake"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return {"police_intake": "Police intake", "partner": "Partner agency"}[self.value]

    @property
    def scopes(self) -> tuple[ApiScope, ...]:
        """The scopes a client of this kind may hold: the rule, said once."""
        if self is ApiClientKind.POLICE_INTAKE:
            return (ApiScope.NOTIFICATIONS_WRITE, ApiScope.NOTIFICATIONS_READ)
        return (ApiScope.REFERRALS_READ, ApiScope.REFERRALS_WRITE)


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[intpk]
    created_at: Mapped[created_at]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[ApiClientKind] = mapped_column(enum_type(ApiClientKind, "kind"))
    # A partner client acts for exactly one agency and sees nothing of any other.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated ApiScope values
    # The token's first characters, to tell tokens apart on the page; the rest is never kept.
    token_prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret_sealed_id: Mapped[str | None] = sealed(64)

    agency: Mapped[Agency | None] = relationship(lazy="joined")

    @property
    def scope_set(self) -> frozenset[ApiScope]:
        return frozenset(ApiScope(s) for s in self.scopes.split())

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def actor_label(self) -> str:
        """How the audit trail and histories name the client."""
        return f"api:{self.name}"
