"""Administrators' changes to routing rules, deadline policies and school calendars.
Each change is audited as an alteration with what it was and what it became."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from referrals.calendars import RuleKind
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditKind
from referrals.models.calendar import ClosureKind, SchoolClosure
from referrals.models.deadlines import DeadlineClock, DeadlinePolicy
from referrals.models.incident import RiskGrade
from referrals.models.routing import RoutingRule
from referrals.narrowing import given
from referrals.reference import BOROUGHS
from referrals.services import audit
from referrals.services.actors import Actor
from referrals.services.errors import InvalidInput, NotFound

MAX_CLOSURE_DAYS = 120
MAX_AMOUNT = {
    RuleKind.WORKING_DAYS: 20,
    RuleKind.WORKING_HOURS: 80,
    RuleKind.ELAPSED_HOURS: 168,
    RuleKind.NEXT_SCHOOL_DAY_START: 1,
    RuleKind.NO_DEADLINE: 1,
}
FIXED_AMOUNT = (RuleKind.NEXT_SCHOOL_DAY_START, RuleKind.NO_DEADLINE)


def update_rule(
    actor: Actor,
    rule_id: int,
    *,
    active: bool,
    effective_from: date | None,
    effective_to: date | None,
) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("No such rule")
    if effective_from is None:
        raise InvalidInput({"effective_from": "Enter the date the rule applies from"})
    if effective_to is not None and effective_to < effective_from:
        raise InvalidInput({"effective_to": "The end date must be on or after the start date"})
    before = {
        "active": rule.active,
        "from": rule.effective_from.isoformat(),
        "to": rule.effective_to.isoformat() if rule.effective_to else None,
    }
    rule.active, rule.effective_from, rule.effective_to = active, effective_from, effective_to
    db.session.flush()
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "routing_rule.updated",
        "routing_rule",
        rule.id,
        detail={
            "code": rule.code.value,
            "before": before,
            "after": {
                "active": active,
                "from": effective_from.isoformat(),
                "to": effective_to.isoformat() if effective_to else None,
            },
        },
    )
    return rule


@dataclass
class PolicyInput:
    agency_kind: AgencyKind | None
    clock: DeadlineClock | None
    risk_grade: RiskGrade | None
    rule_kind: RuleKind | None
    amount: int | None
    effective_from: date | None


def _policy_errors(data: PolicyInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    kind, which, rule = data.agency_kind, data.clock, data.rule_kind
    if kind is None:
        errors["agency_kind"] = "Choose the kind of agency"
    if which is None:
        errors["clock"] = "Choose which deadline the policy sets"
    elif kind is not None and (which is DeadlineClock.TRIAGE) != (kind is AgencyKind.POLICE_DESK):
        errors["clock"] = (
            "Triage is the police desk's own deadline; partner agencies have acknowledgement "
            "and decision deadlines"
        )
    if rule is None:
        errors["rule_kind"] = "Choose the kind of deadline"
    elif rule is RuleKind.NO_DEADLINE and which is not DeadlineClock.DECISION:
        errors["rule_kind"] = "Only the decision deadline can be switched off"
    elif rule is RuleKind.NEXT_SCHOOL_DAY_START and kind is not AgencyKind.SCHOOL:
        errors["rule_kind"] = "The start of the next school day applies to schools only"
    elif rule not in FIXED_AMOUNT and (
        data.amount is None or not 1 <= data.amount <= MAX_AMOUNT[rule]
    ):
        errors["amount"] = f"Enter a whole number from 1 to {MAX_AMOUNT[rule]}"
    if data.effective_from is None:
        errors["effective_from"] = "Enter the date the policy applies from"
    return errors


def add_policy(actor: Actor, data: PolicyInput) -> DeadlinePolicy:
    """A new policy row; the newest in force wins, and older rows stay as history. Its date is
    a London date: it applies to clocks started from London midnight that day."""
    errors = _policy_errors(data)
    if errors or not (data.agency_kind and data.clock and data.rule_kind and data.effective_from):
        raise InvalidInput(errors)
    policy = DeadlinePolicy(
        agency_kind=data.agency_kind,
        clock=data.clock,
        risk_grade=data.risk_grade,
        rule_kind=data.rule_kind,
        amount=1 if data.rule_kind in FIXED_AMOUNT else data.amount or 1,
        effective_from=data.effective_from,
    )
    db.session.add(policy)
    db.session.flush()
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "deadline_policy.added",
        "deadline_policy",
        policy.id,
        detail={
            "kind": data.agency_kind.value,
            "clock": data.clock.value,
            "grade": data.risk_grade.value if data.risk_grade else None,
            "rule": data.rule_kind.value,
            "amount": policy.amount,
            "from": data.effective_from.isoformat(),
        },
    )
    return policy


@dataclass
class ClosureInput:
    borough_code: str
    school_urn: str
    kind: ClosureKind | None
    starts_on: date | None
    ends_on: date | None
    label: str


def add_closure(actor: Actor, data: ClosureInput) -> SchoolClosure:
    errors: dict[str, str] = {}
    school: Agency | None = None
    urn = data.school_urn.strip()
    if bool(data.borough_code) == bool(urn):
        errors["borough_code"] = "Choose a borough, or give one school's URN (not both)"
    elif data.borough_code and data.borough_code not in BOROUGHS:
        errors["borough_code"] = "Choose a London borough"
    elif urn:
        school = db.session.scalar(
            select(Agency).where(Agency.kind == AgencyKind.SCHOOL, Agency.school_urn == urn)
        )
        if school is None:
            errors["school_urn"] = f"No school with URN {urn} is known to the desk"
    if data.kind is None:
        errors["kind"] = "Choose the kind of closure"
    if data.starts_on is None:
        errors["starts_on"] = "Enter the first day of the closure"
    if data.ends_on is None:
        errors["ends_on"] = "Enter the last day of the closure"
    elif data.starts_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = "The last day must be on or after the first day"
    elif data.starts_on is not None and data.ends_on - data.starts_on > timedelta(MAX_CLOSURE_DAYS):
        errors["ends_on"] = f"A closure can last at most {MAX_CLOSURE_DAYS} days"
    label = data.label.strip()
    limit = text_limit(SchoolClosure.label)
    if not label or len(label) > limit:
        errors["label"] = f"Enter a label of up to {limit} characters, like Autumn half-term"
    if errors:
        raise InvalidInput(errors)
    starts_on, ends_on = given(data.starts_on, "starts_on"), given(data.ends_on, "ends_on")
    closure = SchoolClosure(
        borough_code=data.borough_code or None,
        school_id=school.id if school else None,
        kind=given(data.kind, "kind"),
        starts_on=starts_on,
        ends_on=ends_on,
        label=label,
    )
    db.session.add(closure)
    db.session.flush()
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "school_closure.added",
        "school_closure",
        closure.id,
        detail={
            "borough": closure.borough_code,
            "school": urn or None,
            "from": starts_on.isoformat(),
            "to": ends_on.isoformat(),
            "kind": closure.kind.value,
        },
    )
    return closure


def remove_closure(actor: Actor, closure_id: int) -> None:
    closure = db.session.get(SchoolClosure, closure_id)
    if closure is None:
        raise NotFound("No such closure")
    detail = {
        "borough": closure.borough_code,
        "school": closure.school_id,
        "from": closure.starts_on.isoformat(),
        "to": closure.ends_on.isoformat(),
    }
    db.session.delete(closure)
    db.session.flush()
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "school_closure.removed",
        "school_closure",
        closure_id,
        detail=detail,
    )
