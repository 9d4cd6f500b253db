"""Walking every route of the app: one of each record a path can name, a signed-in client per
role, and each rule's path with those ids filled in. Shared by the tests that visit every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.outbox import OutboxMessage
from referrals.models.referral import Referral
from referrals.models.user import Role, UserFactor
from tests.factories import (
    LAMBETH,
    child,
    front_doors,
    log_incident,
    make_agency,
    make_user,
    send_incident,
    sign_in,
)

HUGE_ID = "99999999999999999999"


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    """One of each record a path can name, so that views get past their 404 and read input."""
    front_doors(app, LAMBETH)
    with app.app_context():
        school = make_agency(kind=AgencyKind.SCHOOL, urn="987001")
        make_agency(kind=AgencyKind.POLICE_DESK, code="MET-PPRD")
        target = make_user(role=Role.DESK_OFFICER, email="target@desk.example")
        db.session.commit()
        ids = {"agency_id": school.id, "user_id": target.id}
    incident = log_incident(app, children=[child(school_urn="987001")])
    send_incident(app, incident)
    with app.app_context():
        ids["incident_id"] = incident
        # Due for its retention review today, so the review page shows (and reads input).
        db.session.execute(
            update(Incident).where(Incident.id == incident).values(review_on=date(2026, 1, 1))
        )
        db.session.commit()
        ids["link_id"] = (
            db.session.scalars(
                select(IncidentPerson.id).where(IncidentPerson.incident_id == incident)
            ).first()
            or 1
        )
        ids["referral_id"] = db.session.scalars(
            select(Referral.id).where(Referral.agency_id == school.id)
        ).one()
        ids["message_id"] = db.session.scalars(select(OutboxMessage.id)).first() or 1
        ids["factor_id"] = db.session.scalars(
            select(UserFactor.id).where(UserFactor.user_id == target.id)
        ).one()
        ids["school_id"] = school.id
    return ids


def client_as(app: Flask, role: Role | None, world: dict[str, int]) -> FlaskClient:
    client = app.test_client()
    if role is None:
        return client
    with app.app_context():
        agency = None
        if role is Role.PARTNER:
            from referrals.models.agency import Agency

            agency = db.session.get(Agency, world["school_id"])
        email = make_user(role=role, agency=agency).email
        db.session.commit()
    sign_in(client, email)
    return client


def paths(
    app: Flask, world: dict[str, int], huge: bool = False
) -> Iterator[tuple[str, str, set[str]]]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values: dict[str, object] = {}
        for name in rule.arguments:
            if name == "action":
                values[name] = "add"
            elif name == "token":
                values[name] = "not-a-real-token"
            else:
                values[name] = HUGE_ID if huge else world.get(name, 1)
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<[^>]*:?{name}>", str(value), path)
        yield rule.endpoint, path, set(rule.methods or ()) - {"HEAD", "OPTIONS"}
