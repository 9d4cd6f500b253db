"""Typed models, one module per aggregate. Importing this package registers them all."""

from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.identity import SealedValue
from referrals.models.incident import (
    ADULT_ROLES,
    Incident,
    IncidentPerson,
    IncidentStatus,
    PersonRole,
    RiskGrade,
)
from referrals.models.person import Person, PersonKind
from referrals.models.user import Role, User, UserSession

__all__ = [
    "ADULT_ROLES",
    "Agency",
    "AgencyKind",
    "AuditEvent",
    "AuditKind",
    "Incident",
    "IncidentPerson",
    "IncidentStatus",
    "Person",
    "PersonKind",
    "PersonRole",
    "RiskGrade",
    "Role",
    "SealedValue",
    "User",
    "UserSession",
]
