"""Finding an incident or a referral from what someone quotes on the phone: a police reference,
a referral number, a pseudonym or a school's URN (the desk); a referral number or, for kinds
shown it, the child's name (a partner, within its own agency). Every result passes the same
record policy as every list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.person import Person
from referrals.models.referral import Referral, ReferralState, id_from_reference
from referrals.security import policy
from referrals.services import name_search

LIMIT = 50
PSEUDONYM = re.compile(r"^[CA]-?[0-9A-Z]{4}-?[0-9A-Z]{4}$", re.IGNORECASE)
URN = re.compile(r"^\d{6}$")


@dataclass
class Found:
    """What a search found, newest first, at most :data:`LIMIT` of each."""

    query: str
    incidents: list[Incident] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    how: list[str] = field(default_factory=list)  # what the text was taken to be

    @property
    def empty(self) -> bool:
        return not (self.incidents or self.referrals)


def desk(role: object, text: str) -> Found:
    found = Found(query=text.strip()[:80])
    query = " ".join(found.query.split())
    if not query:
        return found
    number = id_from_reference(query)
    referral = db.session.get(Referral, number) if number is not None else None
    if referral is not None:
        found.referrals.append(referral)
        found.how.append("a referral number")
    if PSEUDONYM.match(query):
        _by_pseudonym(found, query)
    if URN.match(query):
        _by_urn(found, query)
    _by_reference(found, query)
    found.incidents = [i for i in found.incidents if policy.can_view_incident(role, i)]
    found.referrals = [r for r in found.referrals if policy.can_view_incident(role, r.incident)]
    return found


def _by_reference(found: Found, query: str) -> None:
    """The police reference, whole or its beginning (a range, so the index serves it)."""
    ref = query.upper()
    if len(ref) < 3:
        return
    rows = db.session.scalars(
        select(Incident)
        .where(Incident.police_reference >= ref, Incident.police_reference < ref + "\uffff")
        .order_by(Incident.received_at.desc(), Incident.id.desc())
        .limit(LIMIT)
    ).all()
    if rows:
        found.incidents.extend(rows)
        found.how.append("a police reference")


def _by_pseudonym(found: Found, query: str) -> None:
    compact = query.upper().replace("-", "")
    pseudonym = f"{compact[0]}-{compact[1:5]}-{compact[5:]}"
    person = db.session.scalar(select(Person).where(Person.pseudonym == pseudonym))
    if person is None:
        return
    rows = db.session.scalars(
        select(Incident)
        .join(IncidentPerson, IncidentPerson.incident_id == Incident.id)
        .where(IncidentPerson.person_id == person.id)
        .order_by(Incident.received_at.desc(), Incident.id.desc())
        .limit(LIMIT)
    ).all()
    found.incidents.extend(rows)
    found.how.append(f"the pseudonym {pseudonym}")


def _by_urn(found: Found, urn: str) -> None:
    school = db.session.scalar(
        select(Agency).where(Agency.kind == AgencyKind.SCHOOL, Agency.school_urn == urn)
    )
    if school is None:
        return
    rows = db.session.scalars(
        select(Referral)
        .where(Referral.agency_id == school.id)
        .order_by(Referral.sent_at.desc(), Referral.id.desc())
        .limit(LIMIT)
    ).all()
    found.referrals.extend(rows)
    found.how.append(f"school URN {urn} ({school.name})")


def partner(role: object, agency_id: int, text: str) -> Found:
    """Within the partner's own agency only: its referrals (never withdrawn ones), by number or
    by the words of the child's name."""
    found = Found(query=text.strip()[:80])
    query = " ".join(found.query.split())
    if not query:
        return found
    number = id_from_reference(query)
    candidates: list[Referral] = []
    if number is not None:
        referral = db.session.get(Referral, number)
        if referral is not None:
            candidates.append(referral)
            found.how.append("a referral number")
    else:
        ids = name_search.matching(agency_id, query)
        if ids is not None:
            candidates += db.session.scalars(
                select(Referral)
                .where(Referral.id.in_(ids), Referral.state != ReferralState.WITHDRAWN)
                .order_by(Referral.sent_at.desc(), Referral.id.desc())
                .limit(LIMIT)
            ).all()
            found.how.append("a name")
    found.referrals = [r for r in candidates if policy.can_partner_see_referral(role, agency_id, r)]
    return found
