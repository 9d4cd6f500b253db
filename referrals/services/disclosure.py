"""What each kind of partner receives, minimised per recipient: the fields come from the kind's
profile (:mod:`referrals.profiles`), and this is the one place that builds what a partner sees.
A field not listed for a kind is never decrypted for it, so it cannot leak."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.incident import IncidentAmendment, IncidentPerson, PersonRole
from referrals.models.referral import Referral
from referrals.profiles import Field, profile
from referrals.services import identity_store


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
        return profile(self.kind).fields


def _person(
    link: IncidentPerson, opened: dict[str, str], *, identity: bool, address: bool
) -> DisclosedPerson:
    base = DisclosedPerson(link.person.pseudonym, link.role.label, link.age_band)
    if not identity:
        return base
    data = identity_store.loads(opened.get(link.identity_sealed_id))
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
    """What the referral's agency may see, opened with one query whatever the household size."""
    return disclose_many([referral])[0]


def disclose_many(referrals: Sequence[Referral]) -> list[Disclosure]:
    """``disclose`` for several referrals (an incident's, opened together), with one query."""
    parts = [_Parts.of(referral) for referral in referrals]
    opened = identity_store.unseal_many(value_id for p in parts for value_id in p.wanted())
    return [p.disclosed(opened) for p in parts]


@dataclass(frozen=True)
class _Parts:
    """A referral's subject and household, and which of them its agency's profile shows."""

    referral: Referral
    allowed: frozenset[Field]
    adults: list[IncidentPerson]
    siblings: list[IncidentPerson]

    @classmethod
    def of(cls, referral: Referral) -> _Parts:
        allowed = profile(referral.agency.kind).fields
        subject = referral.subject
        others = [p for p in referral.incident.people if p.id != subject.id]
        return cls(
            referral,
            allowed,
            [p for p in others if p.role is not PersonRole.CHILD]
            if Field.HOUSEHOLD in allowed
            else [],
            [p for p in others if p.role is PersonRole.CHILD] if Field.SIBLINGS in allowed else [],
        )

    def wanted(self) -> list[str]:
        """The sealed values this disclosure opens."""
        incident, subject = self.referral.incident, self.referral.subject
        is_child, has = subject.role is PersonRole.CHILD, self.allowed.__contains__
        wanted: dict[str | None, bool] = {
            incident.location_sealed_id: has(Field.PLACE),
            incident.summary_sealed_id: has(Field.SUMMARY),
            subject.identity_sealed_id: has(Field.SUBJECT_IDENTITY),
            subject.present_where_sealed_id: is_child and has(Field.PRESENCE),
            subject.voice_sealed_id: is_child and has(Field.VOICE),
            **{p.identity_sealed_id: True for p in self.adults + self.siblings},
        }
        return [k for k, needed in wanted.items() if needed and k]

    def disclosed(self, opened: dict[str, str]) -> Disclosure:
        referral, allowed = self.referral, self.allowed
        kind = referral.agency.kind
        incident, subject = referral.incident, referral.subject
        is_child = subject.role is PersonRole.CHILD
        adults, siblings = self.adults, self.siblings

        def has(f: Field) -> bool:
            return f in allowed

        def text(value_id: str | None, field: Field, applies: bool = True) -> str | None:
            return opened.get(value_id or "") if applies and has(field) else None

        return Disclosure(
            kind=kind,
            subject=_person(
                subject,
                opened,
                identity=has(Field.SUBJECT_IDENTITY),
                address=has(Field.SUBJECT_ADDRESS),
            ),
            reference=incident.police_reference if has(Field.REFERENCE) else None,
            occurred_at=incident.occurred_at if has(Field.WHEN) else None,
            received_at=incident.received_at if has(Field.WHEN) else None,
            place=text(incident.location_sealed_id, Field.PLACE),
            present=subject.present if is_child and has(Field.PRESENCE) else None,
            present_where=text(subject.present_where_sealed_id, Field.PRESENCE, is_child),
            voice=text(subject.voice_sealed_id, Field.VOICE, is_child),
            spoken_to=subject.spoken_to if is_child and has(Field.WELFARE_CHECK) else None,
            school=subject.school.name if subject.school and has(Field.SCHOOL) else None,
            known_to_social_care=referral.known_to_social_care
            if has(Field.KNOWN_TO_SOCIAL_CARE)
            else None,
            risk=incident.risk_grade.label if has(Field.RISK) else None,
            summary=text(incident.summary_sealed_id, Field.SUMMARY),
            household=tuple(_person(p, opened, identity=True, address=True) for p in adults)
            if has(Field.HOUSEHOLD)
            else None,
            siblings=tuple(_person(p, opened, identity=True, address=False) for p in siblings)
            if has(Field.SIBLINGS)
            else None,
        )


# How partners are told what an amendment touched (never the values).
_TOUCHED = {
    Field.SUBJECT_IDENTITY: "name or date of birth",
    Field.SUBJECT_ADDRESS: "address",
    Field.PRESENCE: "whether present, and where",
    Field.VOICE: "what the child said",
    Field.WELFARE_CHECK: "whether officers spoke to the child",
    Field.KNOWN_TO_SOCIAL_CARE: "whether known to social care",
    Field.PLACE: "where it happened",
    Field.SUMMARY: "what happened",
}


@dataclass(frozen=True)
class AmendmentNote:
    at: datetime
    text: str


def amendments_seen(referral: Referral) -> list[AmendmentNote]:
    """The incident's amendments since this referral was sent, said within what the agency's
    kind may see: a school hears that its child's details it was given changed, not that an
    adult was added; children's social care hears of every sibling."""
    allowed = profile(referral.agency.kind).fields
    rows = db.session.execute(
        select(IncidentAmendment, IncidentPerson.role)
        .outerjoin(IncidentPerson, IncidentPerson.id == IncidentAmendment.subject_id)
        .where(
            IncidentAmendment.incident_id == referral.incident_id,
            IncidentAmendment.at > referral.sent_at,
        )
        .order_by(IncidentAmendment.at, IncidentAmendment.id)
    ).all()
    notes = []
    for amendment, role in rows:
        text = _note(amendment, role, referral.subject_id, allowed)
        if text:
            notes.append(AmendmentNote(amendment.at, text))
    return notes


def _note(
    amendment: IncidentAmendment,
    role: PersonRole | None,
    subject_id: int,
    allowed: frozenset[Field],
) -> str | None:
    touched = [Field(f) for f in amendment.fields.split(",") if f]
    child = role is PersonRole.CHILD
    others = Field.SIBLINGS if child else Field.HOUSEHOLD
    if amendment.what == "person_added":
        if others not in allowed:
            return None
        return (
            "a child was added to the incident" if child else "an adult was added to the incident"
        )
    if amendment.what == "person_corrected" and amendment.subject_id != subject_id:
        if others not in allowed:
            return None
        return f"the details of another {'child' if child else 'adult'} were corrected"
    seen = [_TOUCHED[f] for f in touched if f in allowed and f in _TOUCHED]
    if not seen:
        return None
    whose = "the incident's details" if amendment.subject_id is None else "details you were sent"
    return f"{whose} were corrected: {', '.join(seen)}"
