"""The queue, the incident page and reveals, and who may reach them."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from referrals import clock, create_app
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.incident import IncidentPerson, RiskGrade
from referrals.models.user import Role
from tests.factories import (
    LAMBETH,
    SOUTHWARK,
    csrf_from,
    incident_at,
    log_incident,
    sign_in,
    user_with,
)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def _client(app: Flask, role: Role = Role.DESK_OFFICER) -> tuple[FlaskClient, str]:
    kind = AgencyKind.CHILDRENS_SOCIAL_CARE if role is Role.PARTNER else None
    _, email = user_with(app, role, agency_kind=kind)
    client = app.test_client()
    return client, sign_in(client, email)


def test_queue_is_newest_first_filtered_and_paged_without_overlap(settings: Settings) -> None:
    clock.freeze(NOW)
    app = create_app(dataclasses.replace(settings, page_size=4))
    ids = [
        log_incident(
            app,
            **incident_at(NOW - timedelta(hours=i + 1)),
            borough_code=LAMBETH if i % 2 else SOUTHWARK,
            police_reference=f"CAD{1000 + i}/21NOV26",
        )
        for i in range(10)
    ]
    client, _ = _client(app)
    seen: list[str] = []
    url = "/desk/"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen.extend(re.findall(r'/desk/incidents/\d+">([^<]+)</a>', page.text))
        older = re.search(r'href="([^"]+)" rel="next"', page.text)
        url = older[1].replace("&amp;", "&") if older else ""
    assert seen == [f"CAD{1000 + i}/21NOV26" for i in range(10)]
    assert len(ids) == 10
    newer = re.search(r'href="([^"]+)" rel="prev"', page.text)
    assert newer is not None  # the last page links back to newer incidents
    back = client.get(newer[1].replace("&amp;", "&"))
    assert re.findall(r'/desk/incidents/\d+">([^<]+)</a>', back.text) == seen[4:8]
    lambeth = client.get("/desk/?borough=E09000022")
    assert "CAD1001/21NOV26" in lambeth.text and "CAD1000/21NOV26" not in lambeth.text


def test_queue_filters_by_risk_and_says_when_nothing_matches(app: Flask) -> None:
    clock.freeze(NOW)
    log_incident(app, risk_actuarial=RiskGrade.HIGH, police_reference="CADHIGH/21NOV26")
    client, _ = _client(app)
    assert "CADHIGH/21NOV26" in client.get("/desk/?risk=high").text
    empty = client.get("/desk/?risk=standard")
    assert "No incidents match these filters" in empty.text
    assert client.get("/desk/?risk=<script>&older=garbage").status_code == 200


def test_incident_page_shows_pseudonyms_never_names_and_is_audited(app: Flask) -> None:
    clock.freeze(NOW)
    incident_id = log_incident(app)
    client, _ = _client(app)
    page = client.get(f"/desk/incidents/{incident_id}")
    assert page.status_code == 200
    assert "Robin" not in page.text and "Testwood" not in page.text
    assert "1 Example Road" not in page.text
    with app.app_context():
        pseudonyms = [p.person.pseudonym for p in db.session.query(IncidentPerson)]
        viewed = db.session.query(AuditEvent).filter_by(action="incident.viewed").count()
    assert all(p in page.text for p in pseudonyms)
    assert viewed == 1
    assert client.get("/desk/incidents/999999").status_code == 404


def test_reveal_needs_a_reason_is_audited_and_shows_the_identity_once(app: Flask) -> None:
    clock.freeze(NOW)
    incident_id = log_incident(app)
    client, csrf = _client(app)
    with app.app_context():
        link = db.session.query(IncidentPerson).filter_by(role="child").one()
        link_id, pseudonym = link.id, link.person.pseudonym
    url = f"/desk/incidents/{incident_id}/people/{link_id}/reveal"
    refused = client.post(url, data={"csrf_token": csrf, "reason": "x"})
    assert refused.status_code == 400
    assert "at least 10 characters" in refused.text
    shown = client.post(
        url, data={"csrf_token": csrf, "reason": "Checking against a strategy meeting record"}
    )
    assert shown.status_code == 200
    assert "Robin Testwood" in shown.text and "27 March 2016" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    assert "Robin" not in client.get(f"/desk/incidents/{incident_id}").text
    with app.app_context():
        reveals = db.session.query(AuditEvent).filter_by(action="identity.revealed").all()
    assert len(reveals) == 1
    assert reveals[0].kind is AuditKind.CONSULTATION
    assert reveals[0].reason == "Checking against a strategy meeting record"
    assert "Robin" not in (reveals[0].detail or "") and pseudonym in (reveals[0].detail or "")
    other = log_incident(app)
    assert client.get(f"/desk/incidents/{other}/people/{link_id}/reveal").status_code == 404


def test_reveal_location(app: Flask) -> None:
    clock.freeze(NOW)
    incident_id = log_incident(app, location="Flat 2 Pretend Place")
    client, csrf = _client(app)
    assert "Flat 2 Pretend Place" not in client.get(f"/desk/incidents/{incident_id}").text
    shown = client.post(
        f"/desk/incidents/{incident_id}/location/reveal",
        data={"csrf_token": csrf, "reason": "Arranging a joint visit today"},
    )
    assert "Flat 2 Pretend Place" in shown.text


DESK_URLS = [
    "/desk/",
    "/desk/incidents/new",
    "/desk/incidents/{id}",
    "/desk/incidents/{id}/location/reveal",
]


@pytest.mark.parametrize("role", [Role.PARTNER, Role.ADMINISTRATOR, Role.AUDITOR])
def test_other_roles_reach_nothing_of_the_desks(app: Flask, role: Role) -> None:
    clock.freeze(NOW)
    incident_id = log_incident(app)
    client, csrf = _client(app, role)
    for url in DESK_URLS:
        response = client.get(url.format(id=incident_id))
        assert response.status_code == 403, url
        assert "Robin" not in response.text
    posted = client.post(
        f"/desk/incidents/{incident_id}/location/reveal",
        data={"csrf_token": csrf, "reason": "trying to get in anyway"},
    )
    assert posted.status_code == 403


def test_partner_lands_on_their_inbox(app: Flask) -> None:
    client, _ = _client(app, Role.PARTNER)
    response = client.get("/", follow_redirects=True)
    assert "Referrals for your agency" in response.text
    assert "No new referrals" in response.text


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.DESK_OFFICER, "/desk/"),
        (Role.SUPERVISOR, "/supervisor/"),
        (Role.PARTNER, "/portal/"),
        (Role.ADMINISTRATOR, "/admin/users"),
        (Role.AUDITOR, "/audit/"),
    ],
)
def test_each_role_lands_where_its_work_is(app: Flask, role: Role, landing: str) -> None:
    client, _ = _client(app, role)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(landing)


def test_healthz_reports_the_database_even_without_a_scheduler(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 503  # no scheduler has ever beaten
    assert (response.json or {})["database"] == "ok"


def test_unknown_pages_and_methods_get_clear_errors(app: Flask) -> None:
    client, _ = _client(app)
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/sign-out").status_code == 405
    too_big = client.post("/desk/incidents/new", data={"summary": "x" * (2 * 1024 * 1024)})
    assert too_big.status_code in (400, 413)
    assert csrf_from(client.get("/desk/").text)
