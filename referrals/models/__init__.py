"""Typed models, one module per aggregate. Importing this package registers them all."""

from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.escalation import (
    Chase,
    Escalation,
    EscalationPolicy,
    EscalationStep,
    Heartbeat,
)
from referrals.models.identity import SealedValue
from referrals.models.incident import (
    ADULT_ROLES,
    Incident,
    IncidentPerson,
    IncidentStatus,
    PersonRole,
    RiskGrade,
)
from referrals.models.outbox import OutboxMessage, OutboxState
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
    "Chase",
    "ClosureKind",
    "DeadlinePolicy",
    "Escalation",
    "EscalationPolicy",
    "EscalationStep",
    "Heartbeat",
    "Incident",
    "IncidentPerson",
    "IncidentStatus",
    "OutboxMessage",
    "OutboxState",
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
