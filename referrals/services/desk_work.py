"""What the desk does with partners' answers: a decline is accepted with a reason or re-routed
to another agency; a decision is marked seen. Each is a move of the one transition table."""

from __future__ import annotations

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.models.audit import AuditEvent
from referrals.models.referral import Referral, Transition
from referrals.services import free_text, routing, transitions
from referrals.services.actors import Actor
from referrals.services.errors import InvalidInput
from referrals.services.referral_lifecycle import for_desk


def accept_decline(actor: Actor, referral_id: int, reason: str) -> Referral:
    """The desk agrees the partner was right to decline; the reason is kept in the audit."""
    referral = for_desk(actor, referral_id)
    transitions.check(referral, Transition.ACCEPT_DECLINE)
    reason = free_text.reason(reason, text_limit(AuditEvent.reason))
    transitions.apply(
        actor,
        referral,
        Transition.ACCEPT_DECLINE,
        values={"decline_dealt_at": clock.now(), "decline_dealt_by_id": actor.user_id},
        detail=reason,
        reason=reason,
    )
    return referral


def reroute(actor: Actor, referral_id: int, agency_id: int, reason: str) -> Referral:
    """Send the declined referral's child to another agency instead: a new referral with
    clocks of its own, and the declined one marked dealt with. Returns the new referral."""
    referral = for_desk(actor, referral_id)
    transitions.check(referral, Transition.REROUTE)
    errors: dict[str, str] = {}
    try:
        reason = free_text.reason(reason, text_limit(AuditEvent.reason))
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    agency = db.session.get(Agency, agency_id) if 0 < agency_id < 2**31 else None
    if agency is None or agency.id == referral.agency_id:
        errors["agency"] = "Choose the agency to send it to instead"
    if errors or agency is None:
        raise InvalidInput(errors)
    sent = routing.send_one(actor, referral.incident, referral.subject, agency, reason)
    transitions.apply(
        actor,
        referral,
        Transition.REROUTE,
        values={
            "decline_dealt_at": clock.now(),
            "decline_dealt_by_id": actor.user_id,
            "rerouted_to_id": sent.id,
        },
        detail=f"to {agency.name} ({sent.reference})",
        reason=reason,
        recipients=[agency.code],
    )
    return sent


def mark_seen(actor: Actor, referral_id: int) -> Referral:
    referral = for_desk(actor, referral_id)
    transitions.apply(
        actor, referral, Transition.MARK_SEEN, values={"decision_seen_at": clock.now()}
    )
    return referral
