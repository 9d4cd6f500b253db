"""Routing: from a logged incident to one referral per subject per partner agency.

The rules that apply are data (:class:`RoutingRule`, with effective dates); what each rule does is
here. The desk officer sees the proposal with the rule behind each line, may add or remove a
recipient with a reason, and sends. No child leaves without a children's social care referral
unless the officer records why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from referrals import clock
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
from referrals.models.referral import Referral, ReferralEvent, ReferralState
from referrals.models.routing import RoutingChange, RoutingRule, RuleCode
from referrals.services import audit, deadlines, escalation, notify
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput, NotFound

MIN_REASON = 10
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
            c for c in self.incident.children if c.id not in covered and c.id not in self.waived
        ]


def _active_rules(incident: Incident) -> set[RuleCode]:
    today = clock.to_london(clock.now()).date()
    return {r.code for r in db.session.scalars(select(RoutingRule)) if r.applies_on(today)}


def _agencies_by_borough(kind: AgencyKind) -> dict[str, Agency]:
    rows = db.session.scalars(
        select(Agency).where(Agency.kind == kind, Agency.active.is_(True)).order_by(Agency.id)
    )
    found: dict[str, Agency] = {}
    for agency in rows:
        if agency.borough_code:
            found.setdefault(agency.borough_code, agency)
    return found


def propose(incident: Incident) -> RoutingPlan:
    rules = _active_rules(incident)
    front_doors = _agencies_by_borough(AgencyKind.CHILDRENS_SOCIAL_CARE)
    maracs = _agencies_by_borough(AgencyKind.MARAC)
    proposals: dict[tuple[int, int], Proposal] = {}
    warnings: list[str] = []

    def add(subject: IncidentPerson, agency: Agency | None, rule: RuleCode, missing: str) -> None:
        if agency is None:
            warnings.append(missing)
            return
        proposal = proposals.setdefault((subject.id, agency.id), Proposal(subject, agency))
        if rule not in proposal.rules:
            proposal.rules.append(rule)

    for child in incident.children:
        door = front_doors.get(child.borough_code or "")
        missing = (
            "No active children's social care front door for the borough of "
            f"{child.person.pseudonym}"
        )
        if RuleCode.CHILD_TO_SOCIAL_CARE in rules:
            add(child, door, RuleCode.CHILD_TO_SOCIAL_CARE, missing)
        if child.home_educated and RuleCode.HOME_EDUCATED_TO_SOCIAL_CARE in rules:
            add(child, door, RuleCode.HOME_EDUCATED_TO_SOCIAL_CARE, missing)
        if child.school is not None and RuleCode.CHILD_TO_SCHOOL in rules:
            if child.school.active:
                add(child, child.school, RuleCode.CHILD_TO_SCHOOL, "")
            else:
                warnings.append(f"The school of {child.person.pseudonym} is no longer active")
    if incident.risk_grade is RiskGrade.HIGH and RuleCode.HIGH_RISK_VICTIM_TO_MARAC in rules:
        for victim in incident.adults:
            if victim.role is PersonRole.VICTIM and victim.age_band not in CHILD_AGE_BANDS:
                add(
                    victim,
                    maracs.get(incident.borough_code),
                    RuleCode.HIGH_RISK_VICTIM_TO_MARAC,
                    "No active MARAC coordinator for the incident's borough",
                )

    waived: dict[int, str] = {}
    changes = db.session.scalars(
        select(RoutingChange)
        .where(RoutingChange.incident_id == incident.id)
        .order_by(RoutingChange.at, RoutingChange.id)
    )
    people = {p.id: p for p in incident.people}
    for change in changes:
        subject = people.get(change.subject_id)
        if subject is None:
            continue
        if change.agency_id is None:
            waived[subject.id] = change.reason
            continue
        agency = db.session.get(Agency, change.agency_id)
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
    return RoutingPlan(incident, ordered, [w for w in warnings if w], waived)


def _routable(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("No such incident")
    if incident.status is not IncidentStatus.LOGGED:
        raise DomainError("The referrals for this incident have already been sent")
    return incident


def _check_reason(reason: str, field_name: str = "reason") -> str:
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise InvalidInput({field_name: f"Give a reason of at least {MIN_REASON} characters"})
    if len(reason) > 500:
        raise InvalidInput({field_name: "The reason must be 500 characters or fewer"})
    return reason


def change_recipient(
    actor: Actor, incident_id: int, subject_id: int, agency_id: int, *, add: bool, reason: str
) -> RoutingChange:
    """Add or remove one recipient of the proposal, with a reason (audited)."""
    incident = _routable(incident_id)
    reason = _check_reason(reason)
    subject = next((p for p in incident.people if p.id == subject_id), None)
    agency = db.session.get(Agency, agency_id)
    errors: dict[str, str] = {}
    if subject is None:
        errors["subject_id"] = "Choose a person on this incident"
    if agency is None or not agency.active or agency.kind is AgencyKind.POLICE_DESK:
        errors["agency"] = "Choose an active partner agency"
    if errors:
        raise InvalidInput(errors)
    assert subject is not None and agency is not None
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
    """Create the referrals and their due times. Raises :class:`InvalidInput` keyed
    ``waiver-<child id>`` for each child left without children's social care and no reason."""
    incident = _routable(incident_id)
    plan = propose(incident)
    errors: dict[str, str] = {}
    for child in plan.children_without_social_care:
        reason = (waivers or {}).get(child.id, "").strip()
        if len(reason) < MIN_REASON:
            errors[f"waiver-{child.id}"] = (
                f"{child.person.pseudonym} has no children's social care referral: add one, "
                f"or say why not (at least {MIN_REASON} characters)"
            )
    included = [p for p in plan.proposals if p.included]
    if not included:
        errors["routing"] = "There is no recipient to send to: add one"
    if errors:
        raise InvalidInput(errors)
    # Claim the incident: a second click, or a second officer, finds it already sent.
    claimed = db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == IncidentStatus.LOGGED)
        .values(status=IncidentStatus.ROUTED)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError("The referrals for this incident have already been sent")
    now = clock.now()
    for child in plan.children_without_social_care:
        reason = _check_reason((waivers or {})[child.id])
        db.session.add(
            RoutingChange(
                incident_id=incident.id,
                subject_id=child.id,
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
            detail={"subject": child.person.pseudonym},
        )
    referrals = [_create(actor, incident, p, now) for p in included]
    db.session.flush()
    db.session.refresh(incident)
    return referrals


def _create(actor: Actor, incident: Incident, proposal: Proposal, now: datetime) -> Referral:
    due, rule = deadlines.due_for(proposal.agency, incident.risk_grade, incident.received_at, now)
    referral = Referral(
        incident_id=incident.id,
        subject_id=proposal.subject.id,
        agency_id=proposal.agency.id,
        rule_code=proposal.rules[0],
        state=ReferralState.SENT,
        known_to_social_care=bool(proposal.subject.known_to_social_care),
        sent_at=now,
        sent_by_id=actor.user_id,
        due_at=due,
        deadline_rule=rule.describe(),
        version=1,
        escalation_level=0,
        owner_id=actor.user_id,
    )
    db.session.add(referral)
    db.session.flush()
    referral.next_escalation_at = escalation.first_step(referral)
    if proposal.agency.notice_email:
        working, _ = deadlines.calendars_for(proposal.agency, now.date())
        quiet = incident.risk_grade is not RiskGrade.HIGH
        notify.queue(
            "new_referral",
            proposal.agency.notice_email,
            referral,
            not_before=working.next_working_moment(now) if quiet else now,
        )
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            actor_id=actor.user_id,
            actor_label=actor.label,
            action="sent",
            detail=f"due {clock.to_london(due):%-d %b %Y %H:%M}",
        )
    )
    audit.record(
        actor,
        AuditKind.DISCLOSURE,
        "referral.sent",
        "referral",
        referral.id,
        recipients=[proposal.agency.code],
        detail={
            "incident": incident.id,
            "subject": proposal.subject.person.pseudonym,
            "rules": [r.value for r in proposal.rules],
        },
    )
    return referral


def partner_agencies() -> Iterable[Agency]:
    """Agencies a desk officer can add by hand, for the form's list."""
    return db.session.scalars(
        select(Agency)
        .where(Agency.active.is_(True), Agency.kind != AgencyKind.POLICE_DESK)
        .order_by(Agency.kind, Agency.name)
    )
