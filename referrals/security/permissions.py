"""Roles to permissions. A role not in the table has no permission at all."""

from __future__ import annotations

from enum import StrEnum

from referrals.models.user import Role


class Permission(StrEnum):
    SIGNED_IN = "signed_in"  # anything every signed-in user may do (own password, sign out)
    DESK_QUEUE = "desk_queue"
    LOG_INCIDENT = "log_incident"
    VIEW_INCIDENT = "view_incident"
    REVEAL_IDENTITY = "reveal_identity"
    SEND_REFERRALS = "send_referrals"
    MANAGE_REFERRALS = "manage_referrals"  # pause, resume, withdraw, answer partners
    PARTNER_INBOX = "partner_inbox"
    MANAGE_ROUTING = "manage_routing"  # routing rules, deadline policies, school calendars
    SUPERVISE = "supervise"  # the overdue board, chases, re-assignment, deadline extensions
    MANAGE_AGENCIES = "manage_agencies"
    MANAGE_USERS = "manage_users"
    MANAGE_API_CLIENTS = "manage_api_clients"  # API tokens and their webhooks
    VIEW_AUDIT = "view_audit"
    REVIEW_RETENTION = "review_retention"  # retain or dispose of incidents due for review


_DESK = frozenset(
    {
        Permission.SIGNED_IN,
        Permission.DESK_QUEUE,
        Permission.LOG_INCIDENT,
        Permission.VIEW_INCIDENT,
        Permission.REVEAL_IDENTITY,
        Permission.SEND_REFERRALS,
        Permission.MANAGE_REFERRALS,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.DESK_OFFICER: _DESK,
    Role.SUPERVISOR: _DESK | {Permission.SUPERVISE, Permission.REVIEW_RETENTION},
    Role.PARTNER: frozenset({Permission.SIGNED_IN, Permission.PARTNER_INBOX}),
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.SIGNED_IN,
            Permission.MANAGE_AGENCIES,
            Permission.MANAGE_USERS,
            Permission.MANAGE_ROUTING,
            Permission.MANAGE_API_CLIENTS,
        }
    ),
    Role.AUDITOR: frozenset({Permission.SIGNED_IN, Permission.VIEW_AUDIT}),
}


def role_has(role: object, permission: Permission) -> bool:
    """Deny by default: an unknown role, or anything unexpected, has no permission."""
    try:
        return permission in ROLE_PERMISSIONS.get(Role(str(role)), frozenset())
    except (ValueError, TypeError):
        return False
