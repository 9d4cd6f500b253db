"""Typed models, one module per aggregate. Importing this package registers them all."""

from referrals.models.agency import Agency, AgencyKind
from referrals.models.api_client import ApiClient, ApiClientKind, ApiScope
from referrals.models.audit import AuditEvent, AuditKind, AuditTouch
from referrals.models.calendar import ClosureKind, SchoolClosure
from referrals.models.deadlines import DeadlineClock, DeadlinePolicy
from referrals.models.escalation import (
    Chase,
    DeskEscalation,
    Escalation,
    EscalationPolicy,
    EscalationStep,
)
from referrals.models.identity import SealedValue
from referrals.models.incident import (
    ADULT_ROLES,
    DeskClock,
    Incident,
    IncidentAmendment,
    IncidentPerson,
    IncidentStatus,
    PersonRole,
    RiskGrade,
)
from referrals.models.open_work import OpenWorkCount
from referrals.models.outbox import OutboxMessage, OutboxState
from referrals.models.person import Person, PersonKind
from referrals.models.referral import (
    AWAITING,
    MOVES,
    OPEN_STATES,
    Need,
    Referral,
    ReferralEvent,
    ReferralMessage,
    ReferralNameToken,
    ReferralState,
    Transition,
)
from referrals.models.report import report_answers, report_days, report_desk_days, report_state
from referrals.models.retention import RetentionReview
from referrals.models.routing import RoutingChange, RoutingRule, RuleCode
from referrals.models.scheduler import SchedulerHeartbeat
from referrals.models.user import (
    AccountToken,
    Attempt,
    FactorKind,
    RecoveryCode,
    Role,
    Stage,
    TokenPurpose,
    User,
    UserFactor,
    UserSession,
)

__all__ = [
    "ADULT_ROLES",
    "AWAITING",
    "MOVES",
    "OPEN_STATES",
    "AccountToken",
    "Agency",
    "AgencyKind",
    "ApiClient",
    "ApiClientKind",
    "ApiScope",
    "Attempt",
    "AuditEvent",
    "AuditKind",
    "AuditTouch",
    "Chase",
    "ClosureKind",
    "DeadlineClock",
    "DeadlinePolicy",
    "DeskClock",
    "DeskEscalation",
    "Escalation",
    "EscalationPolicy",
    "EscalationStep",
    "FactorKind",
    "Incident",
    "IncidentAmendment",
    "IncidentPerson",
    "IncidentStatus",
    "Need",
    "OpenWorkCount",
    "OutboxMessage",
    "OutboxState",
    "Person",
    "PersonKind",
    "PersonRole",
    "RecoveryCode",
    "Referral",
    "ReferralEvent",
    "ReferralMessage",
    "ReferralNameToken",
    "ReferralState",
    "RetentionReview",
    "RiskGrade",
    "Role",
    "RoutingChange",
    "RoutingRule",
    "RuleCode",
    "SchedulerHeartbeat",
    "SchoolClosure",
    "SealedValue",
    "Stage",
    "TokenPurpose",
    "Transition",
    "User",
    "UserFactor",
    "UserSession",
    "report_answers",
    "report_days",
    "report_desk_days",
    "report_state",
]
