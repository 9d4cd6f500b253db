"""Amending a logged incident: a person found later (a sibling, another adult) added, and
details corrected, after sending too. Each change is checked as at intake, audited as an
alteration with its reason, and recorded by what it touched (never the values) so that partners
already holding a referral see that the incident was amended, within what their kind may see.
A person added after sending is routed on their own: only their new referrals are proposed,
each with clocks from when the desk learned of them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.incident import (
    Incident,
    IncidentAmendment,
    IncidentPerson,
    PersonRole,
)
from referrals.models.person import PersonKind
from referrals.models.referral import Referral
from referrals.profiles import Field
from referrals.runtime import runtime
from referrals.security import policy
from referrals.services import (
    audit,
    free_text,
    identity_store,
    intake,
    name_search,
    pseudonyms,
)
from referrals.services.actors import Actor
from referrals.services.errors import InvalidInput, NotFound
from referrals.services.intake import AdultInput, ChildInput

# What a correction of each recorded detail touches, in the terms partners are shown.
TOUCHES = {
    "given_name": Field.SUBJECT_IDENTITY,
    "family_name": Field.SUBJECT_IDENTITY,
    "date_of_birth": Field.SUBJECT_IDENTITY,
    "address": Field.SUBJECT_ADDRESS,
    "phone": Field.SUBJECT_ADDRESS,
    "lives_there": Field.SUBJECT_ADDRESS,
    "present": Field.PRESENCE,
    "present_where": Field.PRESENCE,
    "spoken_to": Field.WELFARE_CHECK,
    "voice": Field.VOICE,
    "known_to_social_care": Field.KNOWN_TO_SOCIAL_CARE,
    "location": Field.PLACE,
    "summary": Field.SUMMARY,
}
IDENTITY = ("given_name", "family_name", "date_of_birth", "address", "phone")


@dataclass
class Correction:
    """What changes; a blank or None keeps what was recorded."""

    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    address: str = ""
    phone: str = ""
    lives_there: bool | None = None
    present: bool | None = None
    present_where: str = ""
    spoken_to: bool | None = None
    voice: str = ""
    known_to_social_care: bool | None = None

    def changes(self) -> dict[str, object]:
        return {
            name: value.strip() if isinstance(value, str) else value
            for name, value in vars(self).items()
            if value not in ("", None) and not (isinstance(value, str) and not value.strip())
        }


def _incident(actor: Actor, incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None or not policy.can_view_incident(actor.role, incident):
        raise NotFound("No such incident")
    return incident


def _reason(reason: str) -> str:
    return free_text.reason(reason, text_limit(AuditEvent.reason))


def _record(
    actor: Actor,
    incident: Incident,
    what: str,
    subject: IncidentPerson | None,
    touched: set[Field],
    reason: str,
    detail: dict[str, object],
) -> None:
    now = clock.now()
    incident.amended_at = now
    db.session.add(
        IncidentAmendment(
            incident_id=incident.id,
            subject_id=subject.id if subject else None,
            at=now,
            actor_id=actor.user_id,
            what=what,
            fields=",".join(sorted(f.value for f in touched)),
        )
    )
    audit.record(
        actor,
        AuditKind.ALTERATION,
        f"incident.{what}",
        "incident",
        incident.id,
        reason=reason,
        detail=detail,
    )


def add_person(
    actor: Actor,
    incident_id: int,
    who: AdultInput | ChildInput,
    learned_at: datetime | None,
    reason: str,
) -> IncidentPerson:
    """A person the desk learned of after logging (``learned_at``: when; now if not given)."""
    incident = _incident(actor, incident_id)
    now = clock.now()
    learned = learned_at or now
    errors: dict[str, str] = {}
    try:
        reason = _reason(reason)
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    if learned > now + intake.CLOCK_SKEW:
        errors["learned"] = "When the desk learned of them cannot be in the future"
    elif learned < incident.received_at - timedelta(minutes=1):
        errors["learned"] = "The desk learned of them after it received the incident"
    on = clock.to_london(incident.occurred_at).date()
    problems, schools = intake.check_person("person", who, on)
    errors.update(problems)
    if _already_there(incident, who):
        errors["person-given_name"] = (
            "This person is already recorded on the incident: correct their details instead"
        )
    if errors:
        raise InvalidInput(errors)
    role = PersonRole.CHILD if isinstance(who, ChildInput) else (who.role or PersonRole.OTHER_ADULT)
    position = 1 + int(
        db.session.scalar(
            select(func.max(IncidentPerson.position)).where(
                IncidentPerson.incident_id == incident.id
            )
        )
        or 0
    )
    (link,) = intake.add_people(
        actor, incident, [(role, who)], schools, first_position=position, added_at=learned
    )
    db.session.flush()
    if role is PersonRole.CHILD:
        incident.child_count += 1
    _record(
        actor,
        incident,
        "person_added",
        link,
        set(),
        reason,
        {"pseudonym": link.person.pseudonym, "role": role.value, "learned": learned.isoformat()},
    )
    db.session.refresh(incident)
    return link


def _already_there(incident: Incident, who: AdultInput | ChildInput) -> bool:
    link = pseudonyms.link_hash(
        runtime().linkage_key, who.given_name, who.family_name, who.date_of_birth
    )
    return link is not None and any(p.person.link_hash == link for p in incident.people)


def correct_person(
    actor: Actor, incident_id: int, link_id: int, change: Correction, reason: str
) -> IncidentPerson:
    """Correct what was recorded about one person; what is left blank stays as it was. A new
    name or date of birth may make them someone the desk already knows (a new pseudonym)."""
    incident = _incident(actor, incident_id)
    link = next((p for p in incident.people if p.id == link_id), None)
    if link is None:
        raise NotFound("No such person on this incident")
    wanted = change.changes()
    errors: dict[str, str] = {}
    if not wanted:
        errors["person-given_name"] = "Enter what is to be corrected"
    try:
        reason = _reason(reason)
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    is_child = link.role is PersonRole.CHILD
    if not is_child and set(wanted) - set(IDENTITY):
        errors["person-given_name"] = (
            "Only a child's presence, words and circumstances are recorded"
        )
    merged = _merged(link, wanted)
    problems, _ = intake.check_person(
        "person", merged, clock.to_london(incident.occurred_at).date()
    )
    errors.update({k: v for k, v in problems.items() if k.removeprefix("person-") in wanted})
    if errors:
        raise InvalidInput(errors)
    old_ids = _apply(link, merged, wanted)
    if {"given_name", "family_name", "date_of_birth"} & set(wanted):
        _relink(actor, incident, link, merged)
    db.session.flush()
    identity_store.forget(old_ids)
    if {"given_name", "family_name"} & set(wanted):
        name_search.index(
            db.session.scalars(select(Referral).where(Referral.subject_id == link.id))
        )
    _record(
        actor,
        incident,
        "person_corrected",
        link,
        {TOUCHES[name] for name in wanted},
        reason,
        {"pseudonym": link.person.pseudonym, "fields": sorted(wanted)},
    )
    return link


def _merged(link: IncidentPerson, wanted: dict[str, object]) -> AdultInput | ChildInput:
    """The person as recorded, with the corrections applied (read inside the service only)."""
    opened = identity_store.unseal_many(
        (link.identity_sealed_id, link.present_where_sealed_id, link.voice_sealed_id)
    )
    identity = identity_store.loads(opened.get(link.identity_sealed_id))
    born = identity.get("date_of_birth")
    common = {
        "given_name": identity.get("given_name", ""),
        "family_name": identity.get("family_name", ""),
        "date_of_birth": date.fromisoformat(born) if born else None,
        "address": identity.get("address", ""),
    }
    if link.role is not PersonRole.CHILD:
        adult = AdultInput(role=link.role, phone=identity.get("phone", ""), **common)
        return replace(adult, **wanted)  # type: ignore[arg-type]
    child = ChildInput(
        **common,
        borough_code=link.borough_code or "",
        lives_there=link.lives_there,
        present=link.present,
        present_where=opened.get(link.present_where_sealed_id or "", ""),
        spoken_to=link.spoken_to,
        voice=opened.get(link.voice_sealed_id or "", ""),
        school_urn=link.school.school_urn if link.school and link.school.school_urn else "",
        home_educated=link.home_educated,
        known_to_social_care=link.known_to_social_care,
    )
    if wanted.get("present") is False and "present_where" not in wanted:
        child.present_where = ""
    return replace(child, **wanted)  # type: ignore[arg-type]


def _apply(
    link: IncidentPerson, merged: AdultInput | ChildInput, wanted: dict[str, object]
) -> list[str]:
    """Write the corrected person; returns the ids of the sealed values replaced."""
    replaced: list[str] = []
    if set(IDENTITY) & set(wanted):
        replaced.append(link.identity_sealed_id)
        link.identity_sealed_id = identity_store.seal_json(
            "person.identity",
            {
                "given_name": merged.given_name.strip(),
                "family_name": merged.family_name.strip(),
                "date_of_birth": merged.date_of_birth.isoformat() if merged.date_of_birth else None,
                "address": merged.address.strip(),
                "phone": merged.phone.strip() if isinstance(merged, AdultInput) else "",
            },
        ).id
    if isinstance(merged, ChildInput):
        replaced += [
            old
            for old, name in (
                (link.present_where_sealed_id, "present_where"),
                (link.voice_sealed_id, "voice"),
            )
            if old and (name in wanted or (name == "present_where" and "present" in wanted))
        ]
        school = link.school
        schools = {school.school_urn: school} if school and school.school_urn else {}
        intake.describe_child(link, merged, schools)
    return replaced


def _relink(
    actor: Actor, incident: Incident, link: IncidentPerson, merged: AdultInput | ChildInput
) -> None:
    """A corrected name or date of birth: the pseudonym follows the person it now describes."""
    kind = PersonKind.CHILD if link.role is PersonRole.CHILD else PersonKind.ADULT
    ((person, matched),) = pseudonyms.resolve(
        [
            pseudonyms.Identifiers(
                kind, merged.given_name.strip(), merged.family_name.strip(), merged.date_of_birth
            )
        ]
    )
    if person is link.person:
        return
    before = link.person.pseudonym
    db.session.flush()
    link.person = person
    link.seen_before_count = (
        intake.earlier_incidents(person.id, incident.occurred_at) if matched else 0
    )
    audit.record(
        actor,
        AuditKind.COMBINATION if matched else AuditKind.ALTERATION,
        "person.relinked",
        "person",
        person.id,
        detail={"incident": incident.id, "from": before, "to": person.pseudonym},
    )


def correct_incident(
    actor: Actor, incident_id: int, location: str, summary: str, reason: str
) -> Incident:
    """Correct where it happened or what happened; blank keeps what was recorded."""
    incident = _incident(actor, incident_id)
    errors: dict[str, str] = {}
    wanted = {k: v.strip() for k, v in (("location", location), ("summary", summary)) if v.strip()}
    if not wanted:
        errors["location"] = "Enter what is to be corrected"
    for name, value in wanted.items():
        column = Incident.location_sealed_id if name == "location" else Incident.summary_sealed_id
        try:
            free_text.checked(value, text_limit(column), field=name, label=name.capitalize())
        except InvalidInput as invalid:
            errors.update(invalid.errors)
    try:
        reason = _reason(reason)
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    if errors:
        raise InvalidInput(errors)
    old = []
    if "location" in wanted:
        old.append(incident.location_sealed_id)
        incident.location_sealed_id = identity_store.seal(
            "incident.location", wanted["location"]
        ).id
    if "summary" in wanted:
        old.append(incident.summary_sealed_id)
        incident.summary_sealed_id = identity_store.seal("incident.summary", wanted["summary"]).id
    db.session.flush()
    identity_store.forget(old)
    _record(
        actor,
        incident,
        "incident_corrected",
        None,
        {TOUCHES[name] for name in wanted},
        reason,
        {"fields": sorted(wanted)},
    )
    return incident
