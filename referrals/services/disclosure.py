"""What each kind of partner receives: decided here, in one place (DOMAIN.md, "minimised per
recipient"). A field not listed for a kind is never decrypted for it, so it cannot leak."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from referrals.models.agency import AgencyKind
from referrals.models.incident import IncidentPerson, PersonRole
from referrals.models.referral import Referral
from referrals.services import identity_store


class Field(StrEnum):
    REFERENCE = "reference"
    WHEN = "when"
    PLACE = "place"
    SUBJECT_IDENTITY = "subject_identity"  # the child's (or victim's) name and date of birth
    SUBJECT_ADDRESS = "subject_address"
    PRESENCE = "presence"  # present or not, and where
    VOICE = "voice"
    WELFARE_CHECK = "welfare_check"  # whether officers spoke to the child
    SCHOOL = "school"
    KNOWN_TO_SOCIAL_CARE = "known_to_social_care"
    RISK = "risk"
    SUMMARY = "summary"
    HOUSEHOLD = "household"  # the adults, the suspect included, with their details
    SIBLINGS = "siblings"  # the other children of the incident


OPERATION_ENCOMPASS = frozenset(
    {
        Field.REFERENCE,
        Field.WHEN,
        Field.PLACE,
        Field.SUBJECT_IDENTITY,
        Field.PRESENCE,
        Field.VOICE,
        Field.WELFARE_CHECK,
    }
)
FIELDS_BY_KIND: dict[AgencyKind, frozenset[Field]] = {
    AgencyKind.SCHOOL: OPERATION_ENCOMPASS,
    AgencyKind.CHILDRENS_SOCIAL_CARE: frozenset(Field),
    AgencyKind.MARAC: frozenset(
        {
            Field.REFERENCE,
            Field.WHEN,
            Field.PLACE,
            Field.SUBJECT_IDENTITY,
            Field.SUBJECT_ADDRESS,
            Field.RISK,
            Field.SUMMARY,
            Field.HOUSEHOLD,
            Field.SIBLINGS,
        }
    ),
    AgencyKind.HEALTH: OPERATION_ENCOMPASS | {Field.RISK, Field.KNOWN_TO_SOCIAL_CARE},
    AgencyKind.OTHER: OPERATION_ENCOMPASS,
}


@dataclass(frozen=True)
class DisclosedPerson:
    pseudonym: str
    role: str
    age_band: str
    name: str | None = None
    date_of_birth: str | None = None
    address: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Disclosure:
    """Everything a partner sees of a referral; ``None`` means "not for your kind of agency"."""

    kind: AgencyKind
    subject: DisclosedPerson
    reference: str | None = None
    occurred_at: datetime | None = None
    received_at: datetime | None = None
    place: str | None = None
    present: bool | None = None
    present_where: str | None = None
    voice: str | None = None
    spoken_to: bool | None = None
    school: str | None = None
    known_to_social_care: bool | None = None
    risk: str | None = None
    summary: str | None = None
    household: tuple[DisclosedPerson, ...] | None = None
    siblings: tuple[DisclosedPerson, ...] | None = None

    @property
    def fields(self) -> frozenset[Field]:
        return FIELDS_BY_KIND.get(self.kind, OPERATION_ENCOMPASS)


def _person(link: IncidentPerson, *, identity: bool, address: bool) -> DisclosedPerson:
    base = DisclosedPerson(link.person.pseudonym, link.role.label, link.age_band)
    if not identity:
        return base
    data = identity_store.unseal_json(link.identity_sealed_id)
    name = " ".join(p for p in (data.get("given_name"), data.get("family_name")) if p)
    return DisclosedPerson(
        base.pseudonym,
        base.role,
        base.age_band,
        name=name,
        date_of_birth=data.get("date_of_birth"),
        address=data.get("address") if address else None,
        phone=data.get("phone") if address else None,
    )


def disclose(referral: Referral) -> Disclosure:
    kind = referral.agency.kind
    allowed = FIELDS_BY_KIND.get(kind, OPERATION_ENCOMPASS)
    incident, subject = referral.incident, referral.subject
    is_child = subject.role is PersonRole.CHILD

    def has(f: Field) -> bool:
        return f in allowed

    others = [p for p in incident.people if p.id != subject.id]
    return Disclosure(
        kind=kind,
        subject=_person(
            subject, identity=has(Field.SUBJECT_IDENTITY), address=has(Field.SUBJECT_ADDRESS)
        ),
        reference=incident.police_reference if has(Field.REFERENCE) else None,
        occurred_at=incident.occurred_at if has(Field.WHEN) else None,
        received_at=incident.received_at if has(Field.WHEN) else None,
        place=identity_store.unseal_id(incident.location_sealed_id) if has(Field.PLACE) else None,
        present=subject.present if is_child and has(Field.PRESENCE) else None,
        present_where=identity_store.unseal_id(subject.present_where_sealed_id)
        if is_child and has(Field.PRESENCE)
        else None,
        voice=identity_store.unseal_id(subject.voice_sealed_id)
        if is_child and has(Field.VOICE)
        else None,
        spoken_to=subject.spoken_to if is_child and has(Field.WELFARE_CHECK) else None,
        school=subject.school.name if subject.school and has(Field.SCHOOL) else None,
        known_to_social_care=referral.known_to_social_care
        if has(Field.KNOWN_TO_SOCIAL_CARE)
        else None,
        risk=incident.risk_grade.label if has(Field.RISK) else None,
        summary=identity_store.unseal_id(incident.summary_sealed_id)
        if has(Field.SUMMARY)
        else None,
        household=tuple(
            _person(p, identity=True, address=True)
            for p in others
            if p.role is not PersonRole.CHILD
        )
        if has(Field.HOUSEHOLD)
        else None,
        siblings=tuple(
            _person(p, identity=True, address=False) for p in others if p.role is PersonRole.CHILD
        )
        if has(Field.SIBLINGS)
        else None,
    )
