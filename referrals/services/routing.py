"""Routing: from a logged incident to one referral per subject per partner agency.

The rules that apply are data (:class:`RoutingRule`, with effective dates); what each rule does is
here. The desk officer sees the proposal with the rule behind each line, may add or remove a
recipient with a reason, and sends. No child leaves without a children's social care referral
unless the officer records why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditKind
from referrals.models.incident import (
    Incident,
    IncidentPerson,
    IncidentStatus,
    PersonRole,
    RiskGrade,
)
from referrals.models.referral import Referral, ReferralState
from referrals.models.routing import RoutingChange, RoutingRule, RuleCode
from referrals.services import (
    audit,
    deadlines,
    escalation,
    free_text,
    name_search,
    notify,
    transitions,
)
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput, NotFound

CHILD_AGE_BANDS = ("under 1", "1–4", "5–10", "11–15")


@dataclass
class Proposal:
    subject: IncidentPerson
    agency: Agency
    rules: list[RuleCode] = field(default_factory=list)
    removed_reason: str | None = None

    @property
    def included(self) -> bool:
        return self.removed_reason is None

    @property
    def key(self) -> tuple[int, int]:
        return self.subject.id, self.agency.id


@dataclass
class RoutingPlan:
    incident: Incident
    proposals: list[Proposal]
    warnings: list[str]
    waived: dict[int, str]  # child link id -> why no children's social care referral

    @property
    def children_without_social_care(self) -> list[IncidentPerson]:
        covered = {
            p.subject.id
            for p in self.proposals
            if p.agency.kind is AgencyKind.CHILDRENS_SOCIAL_CARE
            and (p.included or p.removed_reason)
        }
        return [
            c
            for c in routable_people(self.incident)
            if c.role is PersonRole.CHILD and c.id not in covered and c.id not in self.waived
        ]


def routable_people(incident: Incident) -> list[IncidentPerson]:
    """The people whose referrals are still to be sent: the whole household of an incident not
    yet sent, or the people added to it since (a sibling found after sending)."""
    if incident.status is IncidentStatus.LOGGED:
        return list(incident.people)
    return [p for p in incident.people if p.added_at is not None and p.routed_at is None]


@dataclass(frozen=True)
class Subject:
    """What routing needs to know of one person on an incident (the desk's rows and the
    synthetic generator's alike)."""

    key: int
    role: PersonRole
    age_band: str
    borough_code: str | None
    school: Agency | None
    home_educated: bool
    pseudonym: str


@dataclass(frozen=True)
class Route:
    subject_key: int
    agency: Agency
    rules: tuple[RuleCode, ...]


def rules_in_force(rows: Iterable[RoutingRule], day: date) -> set[RuleCode]:
    return {r.code for r in rows if r.applies_on(day)}


def by_borough(agencies: Iterable[Agency], kind: AgencyKind) -> dict[str, Agency]:
    """The active agency of ``kind`` for each borough (the oldest, if there are several)."""
    found: dict[str, Agency] = {}
    for agency in sorted(agencies, key=lambda a: a.id):
        if agency.kind is kind and agency.active and agency.borough_code:
            found.setdefault(agency.borough_code, agency)
    return found


def routes(
    subjects: Iterable[Subject],
    *,
    borough: str,
    risk: RiskGrade,
    rules: set[RuleCode],
    front_doors: dict[str, Agency],
    maracs: dict[str, Agency],
) -> tuple[list[Route], list[str]]:
    """What each routing rule in force does to an incident's people: the recipients, each with
    the rules behind it, and warnings for a recipient that cannot be found. Pure."""
    found: dict[tuple[int, int], tuple[Agency, list[RuleCode]]] = {}
    warnings: list[str] = []

    def add(subject: Subject, agency: Agency | None, rule: RuleCode, missing: str) -> None:
        if agency is None:
            warnings.append(missing)
            return
        _, behind = found.setdefault((subject.key, agency.id), (agency, []))
        if rule not in behind:
            behind.append(rule)

    for child in (s for s in subjects if s.role is PersonRole.CHILD):
        door = front_doors.get(child.borough_code or "")
        missing = (
            f"No active children's social care front door for the borough of {child.pseudonym}"
        )
        if RuleCode.CHILD_TO_SOCIAL_CARE in rules:
            add(child, door, RuleCode.CHILD_TO_SOCIAL_CARE, missing)
        if child.home_educated and RuleCode.HOME_EDUCATED_TO_SOCIAL_CARE in rules:
            add(child, door, RuleCode.HOME_EDUCATED_TO_SOCIAL_CARE, missing)
        if child.school is not None and RuleCode.CHILD_TO_SCHOOL in rules:
            if child.school.active:
                add(child, child.school, RuleCode.CHILD_TO_SCHOOL, "")
            else:
                warnings.append(f"The school of {child.pseudonym} is no longer active")
    if risk is RiskGrade.HIGH and RuleCode.HIGH_RISK_VICTIM_TO_MARAC in rules:
        for victim in subjects:
            if victim.role is PersonRole.VICTIM and victim.age_band not in CHILD_AGE_BANDS:
                add(
                    victim,
                    maracs.get(borough),
                    RuleCode.HIGH_RISK_VICTIM_TO_MARAC,
                    "No active MARAC coordinator for the incident's borough",
                )
    return [Route(k[0], a, tuple(r)) for k, (a, r) in found.items()], [w for w in warnings if w]


def subject_of(link: IncidentPerson) -> Subject:
    return Subject(
        key=link.id,
        role=link.role,
        age_band=link.age_band,
        borough_code=link.borough_code,
        school=link.school,
        home_educated=link.home_educated,
        pseudonym=link.person.pseudonym,
    )


def propose(incident: Incident) -> RoutingPlan:
    """The routing rules in force today, then the desk's own changes, in the order made."""
    rules = rules_in_force(db.session.scalars(select(RoutingRule)), clock.london_today())
    partners = list(
        db.session.scalars(
            select(Agency).where(
                Agency.kind.in_((AgencyKind.CHILDRENS_SOCIAL_CARE, AgencyKind.MARAC)),
                Agency.active.is_(True),
            )
        )
    )
    found, warnings = routes(
        [subject_of(p) for p in routable_people(incident)],
        borough=incident.borough_code,
        risk=incident.risk_grade,
        rules=rules,
        front_doors=by_borough(partners, AgencyKind.CHILDRENS_SOCIAL_CARE),
        maracs=by_borough(partners, AgencyKind.MARAC),
    )
    people = {p.id: p for p in routable_people(incident)}
    proposals: dict[tuple[int, int], Proposal] = {
        (r.subject_key, r.agency.id): Proposal(people[r.subject_key], r.agency, list(r.rules))
        for r in found
    }
    waived: dict[int, str] = {}
    changes = list(
        db.session.scalars(
            select(RoutingChange)
            .where(RoutingChange.incident_id == incident.id)
            .order_by(RoutingChange.at, RoutingChange.id)
        )
    )
    named = {c.agency_id for c in changes if c.agency_id is not None}
    agencies = (
        {a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(named)))}
        if named
        else {}
    )
    for change in changes:
        subject = people.get(change.subject_id)
        if subject is None:
            continue
        if change.agency_id is None:
            waived[subject.id] = change.reason
            continue
        agency = agencies.get(change.agency_id)
        if agency is None:
            continue
        key = (subject.id, agency.id)
        if change.added:
            proposal = proposals.setdefault(key, Proposal(subject, agency))
            proposal.removed_reason = None
            if RuleCode.MANUAL not in proposal.rules:
                proposal.rules.append(RuleCode.MANUAL)
        elif key in proposals:
            proposals[key].removed_reason = change.reason
    ordered = sorted(proposals.values(), key=lambda p: (p.subject.position, p.agency.kind.value))
    return RoutingPlan(incident, ordered, warnings, waived)


def _routable(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("No such incident")
    if not routable_people(incident):
        raise DomainError("The referrals for this incident have already been sent")
    return incident


def _check_reason(reason: str, field_name: str = "reason") -> str:
    return free_text.reason(reason, text_limit(RoutingChange.reason), field=field_name)


def change_recipient(
    actor: Actor, incident_id: int, subject_id: int, agency_id: int, *, add: bool, reason: str
) -> RoutingChange:
    """Add or remove one recipient of the proposal, with a reason (audited)."""
    incident = _routable(incident_id)
    errors: dict[str, str] = {}
    try:
        reason = _check_reason(reason)
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    subject = next((p for p in routable_people(incident) if p.id == subject_id), None)
    agency = db.session.get(Agency, agency_id) if 0 < agency_id < 2**31 else None
    if subject is None:
        errors["subject_id"] = "Choose a person on this incident whose referrals are not sent"
    if agency is None or not agency.active or agency.kind is AgencyKind.POLICE_DESK:
        errors["agency"] = "Choose an active partner agency"
    if errors or subject is None or agency is None:
        raise InvalidInput(errors)
    current = {p.key: p for p in propose(incident).proposals}
    existing = current.get((subject.id, agency.id))
    if add and existing is not None and existing.included:
        raise InvalidInput({"agency": f"{agency.name} already receives this referral"})
    if not add and (existing is None or not existing.included):
        raise InvalidInput({"agency": f"{agency.name} is not a recipient"})
    change = RoutingChange(
        incident_id=incident.id,
        subject_id=subject.id,
        agency_id=agency.id,
        added=add,
        reason=reason,
        actor_id=actor.user_id,
        at=clock.now(),
    )
    db.session.add(change)
    db.session.flush()
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "routing.recipient_added" if add else "routing.recipient_removed",
        "incident",
        incident.id,
        reason=reason,
        recipients=[agency.code],
        detail={"subject": subject.person.pseudonym},
    )
    return change


def send(actor: Actor, incident_id: int, waivers: dict[int, str] | None = None) -> list[Referral]:
    """Create the referrals and their clocks; record the desk's own lateness on the incident.
    Raises :class:`InvalidInput` keyed ``waiver-<child id>`` for each child left without
    children's social care and no reason."""
    incident = _routable(incident_id)
    plan = propose(incident)
    errors: dict[str, str] = {}
    reasons: dict[int, str] = {}
    for child in plan.children_without_social_care:
        try:
            reasons[child.id] = _check_reason((waivers or {}).get(child.id, ""))
        except InvalidInput:
            errors[f"waiver-{child.id}"] = (
                f"{child.person.pseudonym} has no children's social care referral: add one, "
                f"or say why not (at least {free_text.MIN_REASON} characters)"
            )
    included = [p for p in plan.proposals if p.included]
    if not included:
        errors["routing"] = "There is no recipient to send to: add one"
    if errors:
        raise InvalidInput(errors)
    now = clock.now()
    if incident.status is IncidentStatus.LOGGED:
        _claim_incident(incident, now)
    else:
        _claim_people(incident, [p.id for p in routable_people(incident)], now)
    for child_id, reason in reasons.items():
        db.session.add(
            RoutingChange(
                incident_id=incident.id,
                subject_id=child_id,
                agency_id=None,
                added=False,
                reason=reason,
                actor_id=actor.user_id,
                at=now,
            )
        )
        audit.record(
            actor,
            AuditKind.ALTERATION,
            "routing.social_care_waived",
            "incident",
            incident.id,
            reason=reason,
            detail={
                "subject": next(p for p in incident.people if p.id == child_id).person.pseudonym
            },
        )
    book, known = deadlines.policy_book(), escalation.ladders()
    referrals = [_create(actor, incident, p, now, book, known) for p in included]
    name_search.index(referrals)
    db.session.flush()
    db.session.refresh(incident)
    return referrals


def _claim_incident(incident: Incident, now: datetime) -> None:
    """A second click, or a second officer, finds it already sent. The desk's lateness against
    its own deadlines is recorded here, once."""
    claimed = db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == IncidentStatus.LOGGED)
        .values(
            status=IncidentStatus.ROUTED,
            routed_at=now,
            triage_late=now > incident.triage_due_at,
            share_late=incident.share_by_at is not None and now > incident.share_by_at,
        )
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError("The referrals for this incident have already been sent")


def _claim_people(incident: Incident, people: list[int], now: datetime) -> None:
    """People added after sending: each is claimed, so a second click sends nothing twice."""
    claimed = db.session.execute(
        update(IncidentPerson)
        .where(IncidentPerson.id.in_(people), IncidentPerson.routed_at.is_(None))
        .values(routed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != len(people):  # type: ignore[attr-defined]
        raise DomainError("The referrals for these people have already been sent")
    db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == IncidentStatus.CLOSED)
        .values(status=IncidentStatus.ROUTED)
    )


def send_one(
    actor: Actor, incident: Incident, subject: IncidentPerson, agency: Agency, reason: str
) -> Referral:
    """One more referral for someone already routed: to another agency instead of one that
    declined, or to one the rules did not propose. Its clocks start now."""
    if agency.kind is AgencyKind.POLICE_DESK or not agency.active:
        raise InvalidInput({"agency": "Choose an active partner agency"})
    already = db.session.scalar(
        select(Referral.id).where(
            Referral.incident_id == incident.id,
            Referral.subject_id == subject.id,
            Referral.agency_id == agency.id,
        )
    )
    if already is not None:
        raise InvalidInput(
            {"agency": f"{agency.name} already had a referral for {subject.person.pseudonym}"}
        )
    now = clock.now()
    referral = _create(
        actor,
        incident,
        Proposal(subject, agency, [RuleCode.MANUAL]),
        now,
        deadlines.policy_book(),
        escalation.ladders(),
        received=now,
    )
    name_search.index([referral])
    db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == IncidentStatus.CLOSED)
        .values(status=IncidentStatus.ROUTED)
    )
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "routing.recipient_added",
        "incident",
        incident.id,
        reason=reason,
        recipients=[agency.code],
        detail={"subject": subject.person.pseudonym, "referral": referral.id},
    )
    return referral


def initial_clocks(
    book: deadlines.PolicyBook,
    known: escalation.Ladders,
    agency: Agency,
    grade: RiskGrade,
    received: datetime,
    now: datetime,
    calendars: deadlines.Calendars,
) -> dict[str, Any]:
    """A new referral's clocks as column values: acknowledgement and decision due times, the
    desk's own share-by time for a school, and the first step of the ladder. Pure: the desk
    and the synthetic generator start every referral's clocks here."""
    clocks = deadlines.referral_clocks(book, agency, grade, received, now, calendars)
    working, school = calendars
    share_by = deadlines.share_by(school, received) if school is not None else None
    return {
        "state": ReferralState.SENT,
        "sent_at": now,
        "updated_at": now,
        "due_at": clocks.due_at,
        "deadline_rule": clocks.rule.describe(),
        "decision_due_at": clocks.decision_due_at,
        "decision_rule": clocks.decision_rule.describe() if clocks.decision_rule else None,
        "clock_due_at": clocks.due_at,
        "share_by_at": share_by,
        "shared_late": share_by is not None and now > share_by,
        "version": 1,
        "escalation_level": 0,
        "next_escalation_at": escalation.step_time(
            clocks.due_at,
            0,
            known[agency.kind],
            high_risk=grade is RiskGrade.HIGH,
            working=working,
        ),
    }


def _create(
    actor: Actor,
    incident: Incident,
    proposal: Proposal,
    now: datetime,
    book: deadlines.PolicyBook,
    known: escalation.Ladders,
    *,
    received: datetime | None = None,
) -> Referral:
    """One referral and its clocks. ``received``: when the desk learned what it shares (the
    incident's receipt; for a person added later, when the desk learned of them)."""
    agency = proposal.agency
    learned = received or proposal.subject.added_at or incident.received_at
    calendars = deadlines.calendars_for(agency, learned)
    values = initial_clocks(book, known, agency, incident.risk_grade, learned, now, calendars)
    referral = Referral(
        incident_id=incident.id,
        subject_id=proposal.subject.id,
        agency_id=agency.id,
        rule_code=proposal.rules[0],
        known_to_social_care=bool(proposal.subject.known_to_social_care),
        sent_by_id=actor.user_id,
        owner_id=actor.user_id,
        **values,
    )
    db.session.add(referral)
    db.session.flush()
    if agency.notice_email:
        notify.queue(
            "new_referral",
            agency.notice_email,
            referral,
            not_before=deadlines.notice_time(
                agency, incident.risk_grade, referral.due_at, now, calendars[0]
            ),
        )
    detail = f"due {clock.shown(referral.due_at)}"
    if referral.shared_late and referral.share_by_at is not None:
        detail += (
            "; sent after the desk's Operation Encompass deadline "
            f"({clock.shown(referral.share_by_at)})"
        )
    transitions.created(
        actor,
        referral,
        detail=detail,
        audit_detail={
            "incident": incident.id,
            "subject": proposal.subject.person.pseudonym,
            "rules": [r.value for r in proposal.rules],
            "shared_late": referral.shared_late,
        },
    )
    return referral


def front_door_choices() -> list[tuple[str, str]]:
    """Every borough's front door and MARAC coordinator, for a choice (schools go by URN)."""
    return [
        (str(a.id), a.name)
        for a in db.session.scalars(
            select(Agency)
            .where(
                Agency.active.is_(True),
                Agency.kind.in_((AgencyKind.CHILDRENS_SOCIAL_CARE, AgencyKind.MARAC)),
            )
            .order_by(Agency.kind, Agency.name)
        )
    ]


def school_by_urn(urn: str) -> Agency | None:
    found: Agency | None = db.session.scalar(
        select(Agency).where(
            Agency.kind == AgencyKind.SCHOOL, Agency.school_urn == urn, Agency.active.is_(True)
        )
    )
    return found


def partner_agencies() -> Iterable[Agency]:
    """Agencies a desk officer can add by hand, for the form's list."""
    return db.session.scalars(
        select(Agency)
        .where(Agency.active.is_(True), Agency.kind != AgencyKind.POLICE_DESK)
        .order_by(Agency.kind, Agency.name)
    )
