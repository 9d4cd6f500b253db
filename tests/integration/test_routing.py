"""Routing: every child reaches social care and their own school; home-educated children go to
the borough; high-risk victims to MARAC; the officer's changes need reasons and are audited."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select, update

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditEvent
from referrals.models.incident import (
    Incident,
    IncidentPerson,
    IncidentStatus,
    PersonRole,
    RiskGrade,
)
from referrals.models.referral import Referral
from referrals.models.routing import RoutingRule, RuleCode
from referrals.services import routing
from referrals.services.errors import DomainError, InvalidInput
from tests.factories import (
    LAMBETH,
    SOUTHWARK,
    SYSTEM_DESK,
    child,
    front_doors,
    log_incident,
    make_agency,
    send_incident,
    setup,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(autouse=True)
def _now() -> None:
    clock.freeze(NOW)


def _referrals(app: Flask, incident_id: int) -> set[tuple[str, int]]:
    """(child's first name as recorded, agency id) for each referral."""
    with app.app_context():
        rows = db.session.scalars(select(Referral).where(Referral.incident_id == incident_id))
        out = set()
        for r in rows:
            from referrals.services import identity_store

            name = identity_store.unseal_json(r.subject.identity_sealed_id)["given_name"]
            out.add((name, r.agency_id))
        return out


def test_siblings_at_different_schools_each_reach_social_care_and_their_own_school(
    app: Flask,
) -> None:
    doors = front_doors(app, LAMBETH, SOUTHWARK)
    north = setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="910001", borough=LAMBETH)
    south = setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="910002", borough=SOUTHWARK)
    incident_id = log_incident(
        app,
        children=[
            child(given_name="Ash", school_urn="910001"),
            child(
                given_name="Bay",
                date_of_birth=date(2012, 5, 1),
                school_urn="910002",
                borough_code=SOUTHWARK,
            ),
            child(given_name="Cove", date_of_birth=date(2024, 1, 9)),  # too young for school
        ],
    )
    send_incident(app, incident_id)
    assert _referrals(app, incident_id) == {
        ("Ash", doors[f"csc-{LAMBETH}"]),
        ("Ash", north),
        ("Bay", doors[f"csc-{SOUTHWARK}"]),
        ("Bay", south),
        ("Cove", doors[f"csc-{LAMBETH}"]),
    }
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        assert incident is not None and incident.status is IncidentStatus.ROUTED


def test_home_educated_child_goes_to_the_borough_not_a_school(app: Flask) -> None:
    doors = front_doors(app, LAMBETH)
    incident_id = log_incident(app, children=[child(home_educated=True)])
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        assert incident is not None
        plan = routing.propose(incident)
        assert [(p.agency.id, p.rules) for p in plan.proposals] == [
            (
                doors[f"csc-{LAMBETH}"],
                [RuleCode.CHILD_TO_SOCIAL_CARE, RuleCode.HOME_EDUCATED_TO_SOCIAL_CARE],
            )
        ]


@pytest.mark.parametrize(("grade", "to_marac"), [(RiskGrade.HIGH, True), (RiskGrade.MEDIUM, False)])
def test_high_risk_adult_victim_goes_to_marac(app: Flask, grade: RiskGrade, to_marac: bool) -> None:
    doors = front_doors(app, LAMBETH)
    incident_id = log_incident(app, risk_actuarial=grade)
    send_incident(app, incident_id)
    agencies = {agency for _, agency in _referrals(app, incident_id)}
    assert (doors[f"marac-{LAMBETH}"] in agencies) is to_marac


def test_known_to_social_care_is_flagged_on_the_referral(app: Flask) -> None:
    front_doors(app, LAMBETH)
    incident_id = log_incident(app, children=[child(known_to_social_care=True)])
    send_incident(app, incident_id)
    with app.app_context():
        assert db.session.scalars(select(Referral.known_to_social_care)).all() == [True]


def test_removing_social_care_needs_a_reason_and_is_audited(app: Flask) -> None:
    doors = front_doors(app, LAMBETH)
    incident_id = log_incident(app)
    with app.app_context():
        link = db.session.scalars(
            select(IncidentPerson).where(
                IncidentPerson.incident_id == incident_id, IncidentPerson.role == PersonRole.CHILD
            )
        ).one()
        with pytest.raises(InvalidInput) as short:
            routing.change_recipient(
                SYSTEM_DESK, incident_id, link.id, doors[f"csc-{LAMBETH}"], add=False, reason="no"
            )
        assert "at least 10" in short.value.errors["reason"]
        routing.change_recipient(
            SYSTEM_DESK,
            incident_id,
            link.id,
            doors[f"csc-{LAMBETH}"],
            add=False,
            reason="Already allocated social worker today",
        )
        db.session.commit()
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "routing.recipient_removed")
        ).one()
        assert event.reason == "Already allocated social worker today"
        assert event.recipients and event.recipients.startswith("CHI-")
        # The removal with its reason counts as the recorded "why": sending is allowed...
        with pytest.raises(InvalidInput) as nothing:
            routing.send(SYSTEM_DESK, incident_id)
        assert "no recipient" in nothing.value.errors["routing"]


def test_a_child_with_no_front_door_cannot_be_left_out_silently(app: Flask) -> None:
    school = setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="910003")
    incident_id = log_incident(app, children=[child(school_urn="910003")])  # no front door exists
    with app.app_context():
        link_id = db.session.scalars(
            select(IncidentPerson.id).where(IncidentPerson.role == PersonRole.CHILD)
        ).one()
        with pytest.raises(InvalidInput) as missing:
            routing.send(SYSTEM_DESK, incident_id)
        assert "has no children's social care referral" in missing.value.errors[f"waiver-{link_id}"]
    send_incident(app, incident_id, {link_id: "Front door unreachable; phoned the duty line"})
    assert {a for _, a in _referrals(app, incident_id)} == {school}
    with app.app_context():
        reason = db.session.scalars(
            select(AuditEvent.reason).where(AuditEvent.action == "routing.social_care_waived")
        ).one()
        assert reason is not None and reason.startswith("Front door")


def test_adding_a_recipient_by_hand(app: Flask) -> None:
    front_doors(app, LAMBETH)
    health = setup(app, make_agency, kind=AgencyKind.HEALTH)
    incident_id = log_incident(app)
    with app.app_context():
        link_id = db.session.scalars(
            select(IncidentPerson.id).where(IncidentPerson.role == PersonRole.CHILD)
        ).one()
        routing.change_recipient(
            SYSTEM_DESK,
            incident_id,
            link_id,
            health,
            add=True,
            reason="Health visitor already involved with the family",
        )
        db.session.commit()
        with pytest.raises(InvalidInput, match="already receives"):
            routing.change_recipient(
                SYSTEM_DESK,
                incident_id,
                link_id,
                health,
                add=True,
                reason="Health visitor already involved with the family",
            )
    send_incident(app, incident_id)
    with app.app_context():
        manual = db.session.scalars(select(Referral).where(Referral.agency_id == health)).one()
        assert manual.rule_code is RuleCode.MANUAL


def test_rules_are_data_with_effective_dates(app: Flask) -> None:
    front_doors(app, LAMBETH)
    setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="910004")
    with app.app_context():
        db.session.execute(
            update(RoutingRule)
            .where(RoutingRule.code == RuleCode.CHILD_TO_SCHOOL)
            .values(effective_from=date(2027, 1, 1))
        )
        db.session.commit()
    incident_id = log_incident(app, children=[child(school_urn="910004")])
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        assert incident is not None
        kinds = {p.agency.kind for p in routing.propose(incident).proposals}
    assert kinds == {AgencyKind.CHILDRENS_SOCIAL_CARE}  # the school rule is not yet in force


def test_sending_twice_is_refused_and_makes_no_copies(app: Flask) -> None:
    front_doors(app, LAMBETH)
    incident_id = log_incident(app)
    first = send_incident(app, incident_id)
    with app.app_context(), pytest.raises(DomainError, match="already been sent"):
        routing.send(SYSTEM_DESK, incident_id)
    with app.app_context():
        assert db.session.query(Referral).count() == len(first) == 1


def test_due_times_follow_the_policy_for_each_kind(app: Flask) -> None:
    front_doors(app, LAMBETH)
    setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="910005")
    clock.freeze(datetime(2026, 11, 20, 19, 0, tzinfo=UTC))  # Friday evening
    incident_id = log_incident(app, children=[child(school_urn="910005")])
    send_incident(app, incident_id)
    with app.app_context():
        due = {
            r.agency.kind: clock.to_london(r.due_at) for r in db.session.scalars(select(Referral))
        }
    assert due[AgencyKind.SCHOOL].strftime("%a %H:%M") == "Mon 08:30"
    assert due[AgencyKind.CHILDRENS_SOCIAL_CARE].strftime("%a %H:%M") == "Mon 17:00"
