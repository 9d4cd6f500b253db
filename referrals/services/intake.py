"""Logging an incident with its household: validation, pseudonyms, sealing and audit.

The desk form and the JSON import both build an :class:`IncidentInput` and call
:func:`log_incident`; every rule lives here once. Errors are keyed by field path
(``children-0-date_of_birth``) so each edge can put the message beside the right field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from referrals import clock
from referrals.calendars import WorkingCalendar
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.incident import (
    Incident,
    IncidentPerson,
    IncidentStatus,
    PersonRole,
    RiskGrade,
)
from referrals.models.person import Person, PersonKind
from referrals.narrowing import given
from referrals.reference import BOROUGHS
from referrals.runtime import runtime
from referrals.services import audit, deadlines, free_text, identity_store, pseudonyms
from referrals.services.actors import Actor
from referrals.services.ages import ADULT_MINIMUM_AGE, CHILD_AGE_LIMIT, age_band, age_on
from referrals.services.errors import InvalidInput

REFERENCE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9 /\-]{2,39}$")
URN_PATTERN = re.compile(r"^\d{6}$")
CONTROL_CHARACTERS = free_text.CONTROL_CHARACTERS
SINGLE_LINE_CONTROL = free_text.SINGLE_LINE_CONTROL
SEEN_BEFORE_WINDOW = timedelta(days=365)
CLOCK_SKEW = timedelta(minutes=5)

# Each field's limit, read from the model that holds it.
LIMITS = {
    "location": text_limit(Incident.location_sealed_id),
    "summary": text_limit(Incident.summary_sealed_id),
    "risk_rationale": text_limit(Incident.risk_rationale_sealed_id),
    **IncidentPerson.IDENTITY_LIMITS,
    "present_where": text_limit(IncidentPerson.present_where_sealed_id),
    "voice": text_limit(IncidentPerson.voice_sealed_id),
}


@dataclass
class AdultInput:
    role: PersonRole | None = None
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    address: str = ""
    phone: str = ""

    def is_blank(self) -> bool:
        return not any(
            (
                self.role,
                self.given_name,
                self.family_name,
                self.date_of_birth,
                self.address,
                self.phone,
            )
        )


@dataclass
class ChildInput:
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    address: str = ""
    borough_code: str = ""
    lives_there: bool | None = None
    present: bool | None = None
    present_where: str = ""
    spoken_to: bool | None = None
    voice: str = ""
    school_urn: str = ""
    home_educated: bool = False
    known_to_social_care: bool | None = None

    def is_blank(self) -> bool:
        return not any(
            (
                self.given_name,
                self.family_name,
                self.date_of_birth,
                self.address,
                self.lives_there is not None,
                self.present is not None,
                self.present_where,
                self.spoken_to is not None,
                self.voice,
                self.school_urn,
                self.home_educated,
            )
        )


P = TypeVar("P", AdultInput, ChildInput)


@dataclass
class IncidentInput:
    submission_key: str
    police_reference: str = ""
    occurred_at: datetime | None = None
    received_at: datetime | None = None
    borough_code: str = ""
    location: str = ""
    summary: str = ""
    risk_actuarial: RiskGrade | None = None
    risk_judgement: RiskGrade | None = None
    risk_rationale: str = ""
    adults: list[AdultInput] = field(default_factory=list)
    children: list[ChildInput] = field(default_factory=list)
    source: str = "desk"
    # Why the desk logs a police reference that was logged before (re-used references happen).
    duplicate_reason: str = ""


class _Errors(dict[str, str]):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, message)  # the first problem with a field is the one to fix first

    def about(self, label: str) -> _Errors:
        """The same errors, each message naming the person ("Child 2: enter the last name"),
        so that a summary of several people's problems says whose each one is."""
        return _About(self, label) if label else self


class _About(_Errors):
    def __init__(self, errors: _Errors, label: str) -> None:
        super().__init__()
        self.errors, self.label = errors, label

    def add(self, path: str, message: str) -> None:
        self.errors.add(path, f"{self.label}: {message[0].lower()}{message[1:]}")


def _check_text(
    errors: _Errors, path: str, value: str, label: str, *, required: bool, multiline: bool = False
) -> None:
    name = path.rsplit("-", 1)[-1]
    if required and not value.strip():
        errors.add(path, f"Enter {label}")
        return
    limit = LIMITS.get(name)
    if limit is not None and len(value) > limit:
        errors.add(path, f"{label[0].upper()}{label[1:]} must be {limit} characters or fewer")
    pattern = CONTROL_CHARACTERS if multiline else SINGLE_LINE_CONTROL
    if pattern.search(value):
        errors.add(path, f"Remove the control characters from {label}")


def _check_date_of_birth(
    errors: _Errors, path: str, dob: date | None, on: date | None, *, child: bool
) -> None:
    today = clock.london_today()
    if dob is None:
        if child:
            errors.add(path, "Enter the child's date of birth")
        return
    if dob > today or (on is not None and dob > on):
        errors.add(path, "Date of birth must be in the past")
        return
    if dob.year < 1900:
        errors.add(path, "Date of birth must be after 1900")
        return
    if on is None:
        return
    age = age_on(dob, on)
    if child and age >= CHILD_AGE_LIMIT:
        errors.add(
            path,
            f"A child must be under {CHILD_AGE_LIMIT} on the day of the incident "
            f"(this person was {age}): record them as an adult",
        )
    if not child and age < ADULT_MINIMUM_AGE:
        errors.add(path, f"A person under {ADULT_MINIMUM_AGE} must be recorded as a child")


def _known_schools(urns: set[str]) -> dict[str, Agency]:
    if not urns:
        return {}
    schools = db.session.scalars(
        select(Agency).where(
            Agency.kind == AgencyKind.SCHOOL, Agency.school_urn.in_(urns), Agency.active.is_(True)
        )
    )
    return {s.school_urn: s for s in schools if s.school_urn}


def validate(
    data: IncidentInput, known_schools: dict[str, Agency] | None = None
) -> tuple[dict[str, str], dict[str, Agency]]:
    """Every domain rule for a new incident. Returns (errors by path, schools by URN). Blank
    people (nothing typed) are passed over; paths keep each entry's place on the form."""
    errors = _Errors()
    now = clock.now()
    ref = data.police_reference.strip().upper()
    if not ref:
        errors.add("police_reference", "Enter the police reference")
    elif not REFERENCE_PATTERN.match(ref):
        errors.add(
            "police_reference",
            "Police reference must be 3 to 40 letters, digits, spaces, / or -, "
            "like CAD1234/21NOV26",
        )
    if data.received_at is None:
        errors.add("received_at", "Enter when the desk received the notification")
    elif data.received_at > now + CLOCK_SKEW:
        errors.add("received_at", "The time the desk received it cannot be in the future")
    if data.occurred_at is None:
        errors.add("occurred_at", "Enter when the incident happened")
    elif data.occurred_at > now + CLOCK_SKEW:
        errors.add("occurred_at", "The incident cannot have happened in the future")
    elif data.received_at is not None and data.occurred_at > data.received_at:
        errors.add("occurred_at", "The incident must have happened before the desk received it")
    if data.borough_code not in BOROUGHS:
        errors.add("borough", "Choose the borough where the incident happened")
    _check_text(errors, "location", data.location, "the location", required=True)
    _check_text(errors, "summary", data.summary, "a short summary", required=True, multiline=True)
    _validate_risk(errors, data)

    incident_day = clock.to_london(data.occurred_at).date() if data.occurred_at else None
    for path, label, adult in _entries("adults", data.adults):
        _validate_adult(errors, path, adult, incident_day, label)
    children = _entries("children", data.children)
    if not children:
        errors.add(
            "children",
            "Add at least one child: the desk logs incidents where children live or are present",
        )
    schools = _schools_named([c for _, _, c in children], known_schools)
    for path, label, child in children:
        _validate_child(errors, path, child, incident_day, schools, label)
    _refuse_repeats(errors, data)
    return dict(errors), schools


def _entries(kind: str, people: Sequence[P]) -> list[tuple[str, str, P]]:
    """(path, label, person) for each person something was typed for: ``children-1`` and
    "Child 2" keep the entry's place on the form."""
    label = "Adult" if kind == "adults" else "Child"
    return [
        (f"{kind}-{i}", f"{label} {i + 1}", who)
        for i, who in enumerate(people)
        if not who.is_blank()
    ]


def _schools_named(
    children: Sequence[ChildInput], known_schools: dict[str, Agency] | None
) -> dict[str, Agency]:
    urns = {c.school_urn.strip() for c in children if URN_PATTERN.match(c.school_urn.strip())}
    if known_schools is not None:
        return {u: known_schools[u] for u in urns if u in known_schools}
    return _known_schools(urns)


def check_person(
    path: str, who: AdultInput | ChildInput, on: date | None, label: str = ""
) -> tuple[dict[str, str], dict[str, Agency]]:
    """The rules for one person, as at intake (an amendment adds or corrects one person)."""
    errors = _Errors()
    if isinstance(who, ChildInput):
        schools = _schools_named([who], None)
        _validate_child(errors, path, who, on, schools, label)
        return dict(errors), schools
    _validate_adult(errors, path, who, on, label)
    return dict(errors), {}


def _refuse_repeats(errors: _Errors, data: IncidentInput) -> None:
    """One person entered twice (the same name and date of birth, as pseudonyms match them)
    would be one person in the household twice."""
    key = runtime().linkage_key
    seen: dict[str, str] = {}
    everyone: list[tuple[str, str, AdultInput | ChildInput]] = [
        *_entries("adults", data.adults),
        *_entries("children", data.children),
    ]
    for path, label, who in everyone:
        link = pseudonyms.link_hash(key, who.given_name, who.family_name, who.date_of_birth)
        if link is None:
            continue
        if link in seen:
            errors.add(
                f"{path}-given_name",
                f"{label}: this person has the same name and date of birth as "
                f"{seen[link].lower()}: enter each person once",
            )
        else:
            seen[link] = label


def _validate_risk(errors: _Errors, data: IncidentInput) -> None:
    if data.risk_actuarial is None:
        errors.add("risk_actuarial", "Choose the actuarial risk grade (DASH or DARA)")
        return
    if data.risk_judgement is not None:
        if data.risk_judgement.rank < data.risk_actuarial.rank:
            errors.add(
                "risk_judgement",
                "Professional judgement can raise the grade but never lower it below the "
                f"actuarial grade ({data.risk_actuarial.label})",
            )
        elif data.risk_judgement is data.risk_actuarial:
            errors.add(
                "risk_judgement",
                "A raise must be higher than the actuarial grade: "
                "choose a higher grade or no raise",
            )
        elif not data.risk_rationale.strip():
            errors.add("risk_rationale", "Give the rationale for raising the grade")
    elif data.risk_rationale.strip():
        errors.add(
            "risk_rationale",
            "A rationale is only for a raised grade: "
            "choose the raised grade or clear the rationale",
        )
    _check_text(
        errors,
        "risk_rationale",
        data.risk_rationale,
        "the rationale",
        required=False,
        multiline=True,
    )


def _validate_adult(
    errors: _Errors, path: str, adult: AdultInput, on: date | None, label: str = ""
) -> None:
    errors = errors.about(label)
    if adult.role is None:
        errors.add(f"{path}-role", "Choose this adult's role: victim, suspect or other adult")
    if not (adult.given_name.strip() or adult.family_name.strip()):
        errors.add(f"{path}-family_name", "Enter this adult's name")
    for name, label in (
        ("given_name", "the first name"),
        ("family_name", "the last name"),
        ("address", "the address"),
        ("phone", "the phone number"),
    ):
        _check_text(errors, f"{path}-{name}", getattr(adult, name), label, required=False)
    if adult.phone and not re.fullmatch(r"[0-9 +()\-]{6,30}", adult.phone.strip()):
        errors.add(f"{path}-phone", "Enter a phone number using digits, spaces, + ( ) or -")
    _check_date_of_birth(errors, f"{path}-date_of_birth", adult.date_of_birth, on, child=False)


def _validate_child(
    errors: _Errors,
    path: str,
    child: ChildInput,
    on: date | None,
    schools: dict[str, Agency],
    label: str = "",
) -> None:
    errors = errors.about(label)
    _check_text(
        errors, f"{path}-given_name", child.given_name, "the child's first name", required=True
    )
    _check_text(
        errors, f"{path}-family_name", child.family_name, "the child's last name", required=True
    )
    _check_date_of_birth(errors, f"{path}-date_of_birth", child.date_of_birth, on, child=True)
    _check_text(errors, f"{path}-address", child.address, "the child's address", required=True)
    if child.borough_code not in BOROUGHS:
        errors.add(f"{path}-borough", "Choose the borough where the child lives")
    if child.lives_there is None:
        errors.add(f"{path}-lives_there", "Say whether the child lives at the address")
    if child.present is None:
        errors.add(f"{path}-present", "Say whether the child was present")
    elif child.present:
        _check_text(
            errors,
            f"{path}-present_where",
            child.present_where,
            "where the child was during the incident",
            required=True,
        )
    elif child.present_where.strip():
        errors.add(
            f"{path}-present_where",
            "Only say where the child was if they were present: clear this or answer yes",
        )
    if child.spoken_to is None:
        errors.add(f"{path}-spoken_to", "Say whether officers spoke to the child")
    _check_text(
        errors, f"{path}-voice", child.voice, "what the child said", required=False, multiline=True
    )
    urn = child.school_urn.strip()
    if urn and child.home_educated:
        errors.add(
            f"{path}-school_urn",
            "A child who is electively home-educated has no school: clear the URN or the "
            "home-education answer",
        )
    elif urn and not URN_PATTERN.match(urn):
        errors.add(f"{path}-school_urn", "A school URN is 6 digits, like 100234")
    elif urn and urn not in schools:
        errors.add(
            f"{path}-school_urn",
            f"No school or setting with URN {urn} is known to the desk: check the URN",
        )


def find_by_submission(key: str) -> Incident | None:
    found: Incident | None = db.session.scalar(
        select(Incident).where(Incident.submission_key == key)
    )
    return found


def reference_in_use(reference: str) -> Incident | None:
    """The newest incident already logged with this police reference, if any."""
    found: Incident | None = db.session.scalar(
        select(Incident)
        .where(Incident.police_reference == reference.strip().upper())
        .order_by(Incident.id.desc())
        .limit(1)
    )
    return found


def log_incident(actor: Actor, data: IncidentInput) -> tuple[Incident, bool]:
    """Record the incident and its household. Returns ``(incident, created)``: a repeated
    submission (same ``submission_key``) returns the incident it already made. A police
    reference logged before needs a reason (``duplicate_reason``): a re-used reference happens,
    a second copy of the same notification should not.

    Raises :class:`InvalidInput` with every problem found; nothing is written then.
    """
    existing = find_by_submission(data.submission_key)
    if existing is not None:
        return existing, False
    errors, schools = validate(data)
    reused = reference_in_use(data.police_reference) if "police_reference" not in errors else None
    if reused is not None and reused.submission_key == data.submission_key:
        return reused, False  # the same form, committed by a concurrent submission meanwhile
    if reused is not None:
        try:
            free_text.reason(
                data.duplicate_reason,
                text_limit(AuditEvent.reason),
                field="duplicate_reason",
                label="The reason",
            )
        except InvalidInput:
            errors["duplicate_reason"] = (
                f"{reused.police_reference} was already logged on "
                f"{clock.shown(reused.received_at)}: open that incident, or give a reason of at "
                f"least {free_text.MIN_REASON} characters to log this one as well"
            )
    if errors:
        raise InvalidInput(errors)
    incident, created = _claim(actor, data, schools)
    if not created:
        return incident, False
    adults = [a for a in data.adults if not a.is_blank()]
    children = [c for c in data.children if not c.is_blank()]
    household: list[tuple[PersonRole, AdultInput | ChildInput]] = [
        *((adult.role or PersonRole.OTHER_ADULT, adult) for adult in adults),
        *((PersonRole.CHILD, child) for child in children),
    ]
    people = add_people(actor, incident, household, schools, first_position=0)
    audit.record(
        actor,
        AuditKind.COLLECTION,
        "incident.logged",
        "incident",
        incident.id,
        reason=data.duplicate_reason.strip() if reused is not None else None,
        detail={
            "source": data.source,
            "adults": len(adults),
            "children": len(children),
            "people": [link.person.pseudonym for link in people],
            **({"reference_reused_from": reused.id} if reused is not None else {}),
        },
    )
    return incident, True


def _claim(actor: Actor, data: IncidentInput, schools: dict[str, Agency]) -> tuple[Incident, bool]:
    """The incident row, claimed by its submission key before anything else is written; a
    concurrent submission of the same form that won the race answers instead."""
    received_at = given(data.received_at, "received_at")
    risk_actuarial = given(data.risk_actuarial, "risk_actuarial")
    grade = data.risk_judgement or risk_actuarial
    incident = Incident(
        **desk_clocks(grade, received_at, schools_of(data, schools)),
        police_reference=data.police_reference.strip().upper(),
        occurred_at=given(data.occurred_at, "occurred_at"),
        received_at=received_at,
        borough_code=data.borough_code,
        location_sealed_id=identity_store.seal("incident.location", data.location.strip()).id,
        summary_sealed_id=identity_store.seal("incident.summary", data.summary.strip()).id,
        risk_actuarial=risk_actuarial,
        risk_judgement=data.risk_judgement,
        risk_rationale_sealed_id=_sealed_id("incident.risk_rationale", data.risk_rationale),
        risk_grade=grade,
        status=IncidentStatus.LOGGED,
        child_count=sum(1 for c in data.children if not c.is_blank()),
        source=data.source,
        submission_key=data.submission_key,
        created_by_id=actor.user_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(incident)
            db.session.flush()
    except IntegrityError:
        # A concurrent submission of the same form won the race (PostgreSQL waits on the
        # unique index, then fails here); answer with the incident it made.
        winner = find_by_submission(data.submission_key)
        if winner is None:
            raise
        return winner, False
    return incident, True


def add_people(
    actor: Actor,
    incident: Incident,
    household: list[tuple[PersonRole, AdultInput | ChildInput]],
    schools: dict[str, Agency],
    *,
    first_position: int,
    added_at: datetime | None = None,
) -> list[IncidentPerson]:
    """Each person's part in the incident: their pseudonym (a household's people resolved
    together), their sealed identity and what was recorded about them. ``added_at``: when the
    desk learned of a person added after logging."""
    on = clock.to_london(incident.occurred_at).date()
    resolved = pseudonyms.resolve(
        [
            pseudonyms.Identifiers(
                PersonKind.CHILD if role is PersonRole.CHILD else PersonKind.ADULT,
                who.given_name.strip(),
                who.family_name.strip(),
                who.date_of_birth,
            )
            for role, who in household
        ]
    )
    links = []
    for position, ((role, who), (person, matched)) in enumerate(
        zip(household, resolved, strict=True), start=first_position
    ):
        link = _link(actor, incident, position, role, who, person, matched, on)
        link.added_at = added_at
        if isinstance(who, ChildInput):
            describe_child(link, who, schools)
        links.append(link)
    return links


def describe_child(link: IncidentPerson, who: ChildInput, schools: dict[str, Agency]) -> None:
    """What was recorded about a child at the incident, sealed where it could identify."""
    urn = who.school_urn.strip()
    link.borough_code = who.borough_code
    link.lives_there = who.lives_there
    link.present = who.present
    link.present_where_sealed_id = _sealed_id("child.present_where", who.present_where)
    link.spoken_to = who.spoken_to
    link.voice_sealed_id = _sealed_id("child.voice", who.voice)
    link.school_id = schools[urn].id if urn else None
    link.home_educated = who.home_educated
    link.known_to_social_care = who.known_to_social_care


def schools_of(data: IncidentInput, schools: dict[str, Agency]) -> list[Agency]:
    """The schools the incident's children attend."""
    urns = {c.school_urn.strip() for c in data.children if not c.is_blank()}
    return [schools[u] for u in sorted(urns) if u in schools]


def desk_clocks(
    grade: RiskGrade,
    received: datetime,
    schools: list[Agency],
    book: deadlines.PolicyBook | None = None,
    desk: WorkingCalendar | None = None,
    closed: dict[int, frozenset[date]] | None = None,
) -> dict[str, datetime | None]:
    """The desk's own deadlines for an incident received at ``received``: triage by the police
    desk's policy for the grade, and Operation Encompass share-by at the start of the earliest
    next school day among the children's schools. The generator passes what it loaded once."""
    book = book or deadlines.policy_book(AgencyKind.POLICE_DESK)
    desk = desk or deadlines.desk_calendar()
    starts = []
    for school in schools:
        shut = closed.get(school.id, frozenset()) if closed is not None else None
        _, calendar = (
            deadlines.build_calendars(school, shut)
            if shut is not None
            else deadlines.calendars_for(school, received)
        )
        if calendar is not None:
            starts.append(deadlines.share_by(calendar, received))
    return {
        "triage_due_at": deadlines.triage_due(book, grade, received, desk),
        "share_by_at": min(starts) if starts else None,
    }


def _sealed_id(purpose: str, text: str) -> str | None:
    sealed = identity_store.seal_optional(purpose, text.strip())
    return sealed.id if sealed else None


def _link(
    actor: Actor,
    incident: Incident,
    position: int,
    role: PersonRole,
    who: AdultInput | ChildInput,
    person: Person,
    matched: bool,
    on: date,
) -> IncidentPerson:
    """The person's part in this incident, with their identifiers sealed; a person already
    known is recorded as matched (combination) with how often they were seen before."""
    identity = identity_store.seal_json(
        "person.identity",
        {
            "given_name": who.given_name.strip(),
            "family_name": who.family_name.strip(),
            "date_of_birth": who.date_of_birth.isoformat() if who.date_of_birth else None,
            "address": who.address.strip(),
            "phone": who.phone.strip() if isinstance(who, AdultInput) else "",
        },
    )
    seen_before = 0
    if matched:
        seen_before = earlier_incidents(person.id, incident.occurred_at)
        audit.record(
            actor,
            AuditKind.COMBINATION,
            "person.matched",
            "person",
            person.id,
            detail={
                "incident": incident.id,
                "pseudonym": person.pseudonym,
                "earlier_incidents_12_months": seen_before,
            },
        )
    link = IncidentPerson(
        incident_id=incident.id,
        person=person,
        position=position,
        role=role,
        identity_sealed_id=identity.id,
        age_band=age_band(who.date_of_birth, on),
        seen_before_count=seen_before,
    )
    db.session.add(link)  # not incident.people.append: that would load the collection first
    return link


def earlier_incidents(person_id: int, occurred_at: datetime) -> int:
    count = db.session.scalar(
        select(func.count(func.distinct(Incident.id)))
        .join(IncidentPerson, IncidentPerson.incident_id == Incident.id)
        .where(
            IncidentPerson.person_id == person_id,
            Incident.occurred_at >= occurred_at - SEEN_BEFORE_WINDOW,
            Incident.occurred_at < occurred_at,
        )
    )
    return int(count or 0)
