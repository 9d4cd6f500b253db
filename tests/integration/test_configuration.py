"""Administrators change routing rules, deadline policies, school calendars and agency hours;
each change is audited and changes what happens next."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent
from referrals.models.referral import Referral
from referrals.models.routing import RoutingRule, RuleCode
from referrals.models.user import Role
from tests.factories import (
    LAMBETH,
    child,
    front_doors,
    log_incident,
    make_agency,
    send_incident,
    setup,
    sign_in,
    user_with,
)

NOW = datetime(2026, 10, 22, 18, 0, tzinfo=UTC)  # Thursday evening before half-term


@pytest.fixture
def admin(app: Flask) -> tuple[FlaskClient, str]:
    clock.freeze(NOW)
    _, email = user_with(app, Role.ADMINISTRATOR)
    client = app.test_client()
    return client, sign_in(client, email)


def _actions(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(AuditEvent.action)))


def test_turning_off_the_school_rule_is_audited_and_stops_school_referrals(
    app: Flask, admin: tuple[FlaskClient, str]
) -> None:
    client, csrf = admin
    with app.app_context():
        rule_id = db.session.scalars(
            select(RoutingRule.id).where(RoutingRule.code == RuleCode.CHILD_TO_SCHOOL)
        ).one()
    response = client.post(
        f"/admin/routing-rules/{rule_id}/edit",
        data={
            "csrf_token": csrf,
            "effective_from": ["7", "11", "2025"],
            "effective_to": ["", "", ""],
        },
    )  # "active" unticked
    assert response.status_code == 302
    assert "routing_rule.updated" in _actions(app)
    front_doors(app, LAMBETH)
    setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="940001")
    send_incident(app, log_incident(app, children=[child(school_urn="940001")]))
    with app.app_context():
        kinds = {r.agency.kind for r in db.session.scalars(select(Referral))}
    assert kinds == {AgencyKind.CHILDRENS_SOCIAL_CARE}


def test_rule_dates_are_checked(app: Flask, admin: tuple[FlaskClient, str]) -> None:
    client, csrf = admin
    response = client.post(
        "/admin/routing-rules/1/edit",
        data={
            "csrf_token": csrf,
            "active": "y",
            "effective_from": ["1", "1", "2027"],
            "effective_to": ["1", "1", "2026"],
        },
    )
    assert response.status_code == 400
    assert "on or after the start date" in response.text


def test_half_term_loaded_for_a_borough_moves_school_deadlines(
    app: Flask, admin: tuple[FlaskClient, str]
) -> None:
    client, csrf = admin
    response = client.post(
        "/admin/closures",
        data={
            "csrf_token": csrf,
            "borough_code": LAMBETH,
            "school_urn": "",
            "kind": "term_break",
            "starts_on": ["26", "10", "2026"],
            "ends_on": ["30", "10", "2026"],
            "label": "Autumn half-term 2026",
        },
    )
    assert response.status_code == 302
    assert "Autumn half-term 2026" in client.get("/admin/closures").text
    front_doors(app, LAMBETH)
    setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="940002", borough=LAMBETH)
    send_incident(app, log_incident(app, children=[child(school_urn="940002")]))
    with app.app_context():
        school = db.session.scalars(
            select(Referral).join(Agency).where(Agency.kind == AgencyKind.SCHOOL)
        ).one()
        assert clock.to_london(school.due_at).strftime("%a %-d %b %H:%M") == "Fri 23 Oct 08:30"
    # ...and an incident received on the Friday evening waits for the first day after half-term
    clock.freeze(datetime(2026, 10, 23, 18, 0, tzinfo=UTC))
    send_incident(app, log_incident(app, children=[child(school_urn="940002", given_name="Sky")]))
    with app.app_context():
        latest = db.session.scalars(
            select(Referral)
            .join(Agency)
            .where(Agency.kind == AgencyKind.SCHOOL)
            .order_by(Referral.id.desc())
        ).first()
        assert latest is not None
        assert clock.to_london(latest.due_at).strftime("%a %-d %b %H:%M") == "Mon 2 Nov 08:30"
    assert "school_closure.added" in _actions(app)


def test_closure_errors_are_specific(app: Flask, admin: tuple[FlaskClient, str]) -> None:
    client, csrf = admin
    response = client.post(
        "/admin/closures",
        data={
            "csrf_token": csrf,
            "borough_code": LAMBETH,
            "school_urn": "900001",
            "kind": "",
            "starts_on": ["30", "10", "2026"],
            "ends_on": ["26", "10", "2026"],
            "label": "",
        },
    )
    assert response.status_code == 400
    for message in ("not both", "Choose the kind", "on or after the first day", "Enter a label"):
        assert message in response.text


def test_a_new_deadline_policy_applies_to_referrals_sent_afterwards(
    app: Flask, admin: tuple[FlaskClient, str]
) -> None:
    client, csrf = admin
    response = client.post(
        "/admin/deadlines",
        data={
            "csrf_token": csrf,
            "agency_kind": "childrens_social_care",
            "clock": "acknowledge",
            "risk_grade": "high",
            "rule_kind": "working_hours",
            "amount": "4",
            "effective_from": ["1", "10", "2026"],
        },
    )
    assert response.status_code == 302
    clock.freeze(datetime(2026, 10, 22, 9, 0, tzinfo=UTC))  # Thursday 10:00 London (BST)
    front_doors(app, LAMBETH)
    from referrals.models.incident import RiskGrade

    send_incident(app, log_incident(app, risk_actuarial=RiskGrade.HIGH))
    with app.app_context():
        csc = db.session.scalars(
            select(Referral).join(Agency).where(Agency.kind == AgencyKind.CHILDRENS_SOCIAL_CARE)
        ).one()
        assert clock.to_london(csc.due_at).strftime("%H:%M") == "14:00"
        assert csc.deadline_rule == "4 working hours"
    bad = client.post(
        "/admin/deadlines",
        data={
            "csrf_token": csrf,
            "agency_kind": "school",
            "clock": "acknowledge",
            "rule_kind": "working_hours",
            "amount": "500",
            "effective_from": ["1", "10", "2026"],
        },
    )
    assert bad.status_code == 400 and "from 1 to 80" in bad.text


def test_agency_working_hours_are_validated_and_saved(
    app: Flask, admin: tuple[FlaskClient, str]
) -> None:
    client, csrf = admin
    bad = client.post(
        "/admin/agencies/new",
        data={
            "csrf_token": csrf,
            "code": "HEALTH-1",
            "name": "Synthetic health",
            "kind": "health",
            "borough_code": LAMBETH,
            "work_start": "18:00",
            "work_end": "08:00",
            "school_day_start": "08:45",
        },
    )
    assert bad.status_code == 400
    assert "must end after it starts" in bad.text
    assert "Only a school or setting has a school day start" in bad.text
    good = client.post(
        "/admin/agencies/new",
        data={
            "csrf_token": csrf,
            "code": "HEALTH-1",
            "name": "Synthetic health",
            "kind": "health",
            "borough_code": LAMBETH,
            "work_start": "08:00",
            "work_end": "18:30",
            "active": "y",
            "duty_manager_email": "duty@health.example",
        },
    )
    assert good.status_code == 302
    with app.app_context():
        agency = db.session.scalars(select(Agency).where(Agency.code == "HEALTH-1")).one()
        assert (agency.work_start.hour, agency.work_end.minute) == (8, 30)
        assert agency.duty_manager_email == "duty@health.example"


def test_the_migrations_seed_what_the_profiles_say(app: Flask) -> None:
    """Each kind's default deadlines and ladder are said once, in its profile; the migrations
    seed exactly those, and nothing else."""
    from referrals.models.deadlines import DeadlinePolicy
    from referrals.models.escalation import EscalationPolicy
    from referrals.profiles import PROFILES

    with app.app_context():
        seeded = {
            (p.agency_kind, p.clock, p.risk_grade): (p.rule_kind, p.amount)
            for p in db.session.scalars(select(DeadlinePolicy))
        }
        ladder = {
            (p.agency_kind, p.step): p.hours_after_due
            for p in db.session.scalars(select(EscalationPolicy))
        }
    assert seeded == {
        (kind, which, grade): (rule.kind, rule.amount)
        for kind, profile in PROFILES.items()
        for (which, grade), rule in profile.deadlines.items()
    }
    assert ladder == {
        (kind, step): hours
        for kind, profile in PROFILES.items()
        for step, hours in profile.ladder.items()
    }
