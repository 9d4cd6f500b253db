"""Reveal of identity: a permission, a reason, one audit event, and the identity for one page."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.incident import Incident, IncidentPerson
from referrals.services import audit, free_text, identity_store
from referrals.services.actors import Actor
from referrals.services.errors import NotFound


@dataclass(frozen=True)
class RevealedPerson:
    pseudonym: str
    given_name: str
    family_name: str
    date_of_birth: str | None
    address: str
    phone: str
    present_where: str | None
    voice: str | None


def _check_reason(reason: str) -> str:
    return free_text.reason(reason, text_limit(AuditEvent.reason))


def reveal_person(actor: Actor, incident_id: int, link_id: int, reason: str) -> RevealedPerson:
    reason = _check_reason(reason)
    link = db.session.get(IncidentPerson, link_id)
    if link is None or link.incident_id != incident_id:
        raise NotFound("No such person on this incident")
    identity = identity_store.unseal_json(link.identity_sealed_id)
    audit.record(
        actor,
        AuditKind.CONSULTATION,
        "identity.revealed",
        "incident_person",
        link.id,
        reason=reason,
        detail={"incident": incident_id, "pseudonym": link.person.pseudonym},
    )
    return RevealedPerson(
        pseudonym=link.person.pseudonym,
        given_name=identity.get("given_name", ""),
        family_name=identity.get("family_name", ""),
        date_of_birth=identity.get("date_of_birth"),
        address=identity.get("address", ""),
        phone=identity.get("phone", ""),
        present_where=identity_store.unseal_id(link.present_where_sealed_id),
        voice=identity_store.unseal_id(link.voice_sealed_id),
    )


def reveal_location(actor: Actor, incident_id: int, reason: str) -> str:
    reason = _check_reason(reason)
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("No such incident")
    location = identity_store.unseal_id(incident.location_sealed_id) or ""
    audit.record(
        actor, AuditKind.CONSULTATION, "location.revealed", "incident", incident.id, reason=reason
    )
    return location
