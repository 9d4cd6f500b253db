"""Opening an incident for the desk: a policy check, the consultation audit, the working view."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.models.audit import AuditKind
from referrals.models.incident import Incident, IncidentStatus
from referrals.models.referral import Referral
from referrals.queries import referrals as referral_queries
from referrals.queries.incidents import incident_with_people
from referrals.security import policy
from referrals.services import audit, identity_store, routing
from referrals.services.actors import Actor
from referrals.services.errors import NotFound
from referrals.services.routing import RoutingPlan


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    summary: str
    risk_rationale: str | None
    plan: RoutingPlan | None  # the proposed routing, until the referrals are sent
    referrals: list[Referral]


def open_incident(actor: Actor, incident_id: int) -> IncidentView:
    """The incident as the desk sees it (pseudonyms, no names). Audited as a consultation.
    Raises :class:`NotFound` for a record the actor may not see, as for one that does not exist."""
    incident = incident_with_people(incident_id)
    if incident is None or not policy.can_view_incident(actor.role, incident):
        raise NotFound("No such incident")
    audit.record(actor, AuditKind.CONSULTATION, "incident.viewed", "incident", incident.id)
    return IncidentView(
        incident=incident,
        summary=identity_store.unseal_id(incident.summary_sealed_id) or "",
        risk_rationale=identity_store.unseal_id(incident.risk_rationale_sealed_id),
        plan=routing.propose(incident) if incident.status is IncidentStatus.LOGGED else None,
        referrals=referral_queries.for_incident(incident.id),
    )
