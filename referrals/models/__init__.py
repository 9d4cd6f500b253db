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
from referrals.models.referral import (
    AWAITING,
    OPEN_STATES,
    Referral,
    ReferralEvent,
    ReferralMessage,
    ReferralState,
)
from referrals.models.routing import (
    ClosureKind,
    DeadlinePolicy,
    RoutingChange,
    RoutingRule,
    RuleCode,
    SchoolClosure,
)
from referrals.models.user import Role, User, UserSession

__all__ = [
    "ADULT_ROLES",
    "AWAITING",
    "OPEN_STATES",
    "Agency",
    "AgencyKind",
    "AuditEvent",
    "AuditKind",
    "ClosureKind",
    "DeadlinePolicy",
    "Incident",
    "IncidentPerson",
    "IncidentStatus",
    "Person",
    "PersonKind",
    "PersonRole",
    "Referral",
    "ReferralEvent",
    "ReferralMessage",
    "ReferralState",
    "RiskGrade",
    "Role",
    "RoutingChange",
    "RoutingRule",
    "RuleCode",
    "SchoolClosure",
    "SealedValue",
    "User",
    "UserSession",
]
