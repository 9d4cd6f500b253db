"""Opening an incident for the desk: a policy check, the consultation audit, the working view."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.models.audit import AuditKind
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.referral import Referral, ReferralState
from referrals.profiles import decline_label, outcome_label
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
        plan=routing.propose(incident) if routing.routable_people(incident) else None,
        referrals=referral_queries.for_incident(incident.id),
    )


@dataclass(frozen=True)
class Outcome:
    """One referral of an incident, as the referring officer is told of it."""

    referral: Referral
    answer: str  # the decision, the decline, or where it stands
    words: str | None  # the partner's decline reason or decision note
    acknowledged_on_time: bool | None
    decided_on_time: bool | None


@dataclass(frozen=True)
class OutcomeSummary:
    incident: Incident
    people: list[tuple[IncidentPerson, list[Outcome]]]

    @property
    def all_answered(self) -> bool:
        outcomes = [o for _, rows in self.people for o in rows]
        return bool(outcomes) and all(o.referral.state.closed for o in outcomes)


def outcome_summary(actor: Actor, incident_id: int, *, printed: bool = False) -> OutcomeSummary:
    """What each partner did with each child's referral, for feeding back to the referring
    officer. Opening it, and printing it, are each audited."""
    incident = incident_with_people(incident_id)
    if incident is None or not policy.can_view_incident(actor.role, incident):
        raise NotFound("No such incident")
    referrals = [
        r
        for r in referral_queries.for_incident(incident.id)
        if r.state is not ReferralState.WITHDRAWN
    ]
    words = identity_store.unseal_many(
        r.decline_reason_sealed_id or r.decision_note_sealed_id for r in referrals
    )
    people = []
    for person in incident.people:
        rows = [
            Outcome(
                referral=r,
                answer=_answer(r),
                words=words.get(r.decline_reason_sealed_id or r.decision_note_sealed_id or ""),
                acknowledged_on_time=r.acknowledged_on_time(),
                decided_on_time=(
                    r.decided_at <= r.decision_due_at
                    if r.decided_at and r.decision_due_at
                    else None
                ),
            )
            for r in referrals
            if r.subject_id == person.id
        ]
        if rows:
            people.append((person, rows))
    audit.record(
        actor,
        AuditKind.CONSULTATION,
        "incident.outcomes_printed" if printed else "incident.outcomes_viewed",
        "incident",
        incident.id,
    )
    return OutcomeSummary(incident, people)


def _answer(referral: Referral) -> str:
    kind = referral.agency.kind
    if referral.decided_at:
        return f"Decided: {outcome_label(kind, referral.decision)}"
    if referral.declined_at:
        return f"Declined: {decline_label(kind, referral.decline_category)}"
    if referral.acknowledged_at:
        return "Acknowledged; no decision yet"
    return "Not yet acknowledged"
