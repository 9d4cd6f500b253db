"""Who may see which record: one module, used by lists, detail pages, exports and the API alike.

Each function denies by default, including when something unexpected is raised inside it (and
logs that error: a denial nobody can explain is a fault to find).
"""

from __future__ import annotations

import logging

from referrals.models.incident import Incident
from referrals.models.user import Role

log = logging.getLogger(__name__)

DESK_ROLES = frozenset({Role.DESK_OFFICER, Role.SUPERVISOR})


def can_view_incident(role: object, incident: Incident | None) -> bool:
    try:
        return incident is not None and Role(str(role)) in DESK_ROLES
    except Exception:
        log.exception("access to an incident denied on an error")
        return False


def can_partner_see_referral(role: object, agency_id: int | None, referral: object) -> bool:
    """A partner sees a referral only if it was routed to their agency and is not withdrawn."""
    from referrals.models.referral import Referral, ReferralState

    try:
        return (
            Role(str(role)) is Role.PARTNER
            and isinstance(referral, Referral)
            and agency_id is not None
            and referral.agency_id == agency_id
            and referral.state is not ReferralState.WITHDRAWN
        )
    except Exception:
        log.exception("access to a referral denied on an error")
        return False
