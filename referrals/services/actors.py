"""Who is acting: a signed-in user, or the system on behalf of a command."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.models.user import Role, User


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    role: Role | None = None
    agency_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, label=user.email, role=user.role, agency_id=user.agency_id)

    @classmethod
    def system(cls, purpose: str) -> Actor:
        return cls(user_id=None, label=f"system:{purpose}")
