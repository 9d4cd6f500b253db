"""The API (``referrals/api``): police intake, partner systems, tokens, problem details; every
answer checked against the OpenAPI document the app serves. Both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select
from werkzeug.test import TestResponse

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.api_client import ApiClient, ApiClientKind, ApiScope
from referrals.models.audit import AuditEvent
from referrals.models.incident import Incident
from referrals.models.referral import Referral, reference_for
from referrals.models.user import Role
from referrals.runtime import EXTENSION_KEY
from referrals.services import api_clients
from referrals.services.actors import Actor
from tests.factories import (
    LAMBETH,
    SOUTHWARK,
    child,
    count,
    front_doors,
    log_incident,
    make_api_client,
    notification_json,
    send_incident,
    sign_in,
    user_with,
)


class Api:
    """A client of the API that checks every answer against the served OpenAPI document."""

    def __init__(self, app: Flask, token: str | None) -> None:
        self.http: FlaskClient = app.test_client()
        self.token = token
        self.schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    def call(self, method: str, path: str, **kw: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.open(f"/api/v1{path}", method=method, headers=headers, **kw)
        operation = self.schema.find_operation_by_path(method, f"/api/v1{path.split('?')[0]}")
        if operation is not None:  # a path the document does not have is answered 404
            operation.validate_response(response)
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json", response.text
            assert response.get_json()["status"] == response.status_code
        return response


def _sent_referrals(app: Flask, **overrides: Any) -> list[int]:
    incident = log_incident(app, **overrides)
    return send_incident(app, incident)


@pytest.fixture
def partners(app: Flask) -> dict[str, int]:
    return front_doors(app, LAMBETH, SOUTHWARK)


def test_the_document_is_openapi_3_1_and_the_reference_page_lists_every_operation(
    app: Flask,
) -> None:
    http = app.test_client()
    spec = http.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    page = http.get("/api/v1/").text
    for path, item in spec["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "delete"):
                assert f"{method.upper()} {path}" in page
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and "responses" in op:
                assert {"401", "403", "429"} <= set(op["responses"])


def test_police_intake_logs_once_per_id_and_reports_routing_state(app: Flask) -> None:
    front_doors(app, SOUTHWARK)
    _, token = make_api_client(app, ApiClientKind.POLICE_INTAKE)
    api = Api(app, token)
    body = notification_json("CAD-API-1")
    first = api.call("POST", "/notifications", json=body)
    assert first.status_code == 201, first.text
    again = api.call("POST", "/notifications", json=body)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert count(app, Incident) == 1
    state = api.call("GET", "/notifications/CAD-API-1")
    assert state.status_code == 200
    assert state.get_json()["status"] == "logged" and state.get_json()["referrals"] == []
    assert "Mockley" not in state.text and "Indigo" not in state.text  # no identities
    with app.app_context():
        incident = db.session.scalars(select(Incident)).one()
        assert incident.source == "api"
        label = db.session.scalars(select(ApiClient)).one().actor_label
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("incident.%")))
        assert {e.actor_label for e in events} == {label}
    send_incident(app, incident.id)
    routed = api.call("GET", "/notifications/CAD-API-1").get_json()
    assert routed["status"] == "routed" and routed["referrals"]
    assert all(r["state"] == "sent" and r["due_at"] for r in routed["referrals"])
    assert api.call("GET", "/notifications/NEVER-SENT").status_code == 404


def test_invalid_notification_names_every_field_and_saves_nothing(app: Flask) -> None:
    front_doors(app, SOUTHWARK)
    _, token = make_api_client(app, ApiClientKind.POLICE_INTAKE)
    api = Api(app, token)
    body = notification_json("CAD-API-2")
    body["children"][0]["date_of_birth"] = "2018-02-31"
    body["risk"] = {"actuarial": "severe"}
    body["nickname"] = "unknown field"
    shape = api.call("POST", "/notifications", json=body)
    assert shape.status_code == 422
    paths = {e["path"] for e in shape.get_json()["errors"]}
    assert {"/children/0/date_of_birth", "/risk/actuarial", "/nickname"} <= paths
    body = notification_json("CAD-API-3")
    body["children"][0]["family_name"] = ""
    body["borough"] = "E99999999"
    rules = api.call("POST", "/notifications", json=body)
    assert rules.status_code == 422
    paths = {e["path"] for e in rules.get_json()["errors"]}
    assert {"/children/0/family_name", "/borough"} <= paths
    assert "Child 1" in rules.text
    edge = notification_json("CAD-API-4", occurred_at="0001-01-01T00:00:00+05:00")
    early = api.call("POST", "/notifications", json=edge)  # no London time (schemathesis found it)
    assert early.status_code == 422
    assert [e["path"] for e in early.get_json()["errors"]] == ["/occurred_at"]
    assert count(app, Incident) == 0
    not_json = api.call("POST", "/notifications", data="{", content_type="application/json")
    assert not_json.status_code in (400, 422)


def test_a_partner_system_sees_its_own_agency_only_and_acts_through_the_transitions(
    app: Flask, partners: dict[str, int]
) -> None:
    ours = _sent_referrals(app, children=[child(borough_code=LAMBETH)], borough_code=LAMBETH)
    theirs = _sent_referrals(app, children=[child(borough_code=SOUTHWARK)], borough_code=SOUTHWARK)
    _, token = make_api_client(app, ApiClientKind.PARTNER, agency_id=partners[f"csc-{LAMBETH}"])
    api = Api(app, token)
    with app.app_context():
        mine = db.session.scalars(
            select(Referral).where(
                Referral.id.in_(ours), Referral.agency_id == partners[f"csc-{LAMBETH}"]
            )
        ).one()
        foreign = [r for r in theirs if r not in ours]
        number = mine.reference
    listed = api.call("GET", "/referrals").get_json()
    assert [r["number"] for r in listed["items"]] == [number]
    for other in foreign:
        assert api.call("GET", f"/referrals/{reference_for(other)}").status_code == 404
        assert api.call("POST", f"/referrals/{reference_for(other)}/acknowledge").status_code == 404
    assert api.call("GET", "/referrals/REF-999999").status_code == 404
    assert api.call("GET", "/referrals/nonsense").status_code == 404

    opened = api.call("GET", f"/referrals/{number}")
    assert opened.status_code == 200
    assert opened.get_json()["state"] == "viewed"
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.opened")
        ).one()
        assert event.actor_label.startswith("api:") and event.record_id == str(mine.id)

    done = api.call("POST", f"/referrals/{number}/acknowledge")
    assert done.status_code == 200 and done.get_json()["state"] == "acknowledged"
    again = api.call("POST", f"/referrals/{number}/acknowledge")
    assert again.status_code == 409
    assert "Already acknowledged" in again.get_json()["detail"]

    asked = api.call("POST", f"/referrals/{number}/messages", json={"body": "Synthetic question?"})
    assert asked.status_code == 201
    assert asked.get_json()["messages"][-1]["body"] == "Synthetic question?"
    empty = api.call("POST", f"/referrals/{number}/messages", json={"body": " "})
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["path"] == "/body"

    wrong = api.call("POST", f"/referrals/{number}/decision", json={"outcome": "maybe"})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["path"] == "/outcome"
    outcome = opened.get_json()["outcomes"][0]["value"]
    decided = api.call(
        "POST", f"/referrals/{number}/decision", json={"outcome": outcome, "note": "Synthetic."}
    )
    assert decided.status_code == 200 and decided.get_json()["decision"] == outcome


def test_list_filters_by_state_and_updated_since_and_pages_by_keyset(
    app: Flask, partners: dict[str, int]
) -> None:
    for _ in range(3):
        _sent_referrals(app, children=[child(borough_code=LAMBETH)], borough_code=LAMBETH)
    _, token = make_api_client(app, ApiClientKind.PARTNER, agency_id=partners[f"csc-{LAMBETH}"])
    api = Api(app, token)
    first = api.call("GET", "/referrals?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next"]
    second = api.call("GET", f"/referrals?limit=2&after={first['next']}").get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    numbers = [r["number"] for r in first["items"] + second["items"]]
    assert numbers == sorted(numbers, reverse=True)  # newest first
    clock.freeze(clock.now() + timedelta(minutes=5))
    since = clock.now().isoformat()
    clock.freeze(clock.now() + timedelta(minutes=1))
    api.call("POST", f"/referrals/{numbers[1]}/acknowledge")
    changed = api.http.get(
        "/api/v1/referrals",
        query_string={"updated_since": since},
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()
    assert [r["number"] for r in changed["items"]] == [numbers[1]]
    sent = api.call("GET", "/referrals?state=sent").get_json()
    assert {r["number"] for r in sent["items"]} == {numbers[0], numbers[2]}
    bad = api.call("GET", "/referrals?after=not-a-cursor")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["path"] == "/after"
    assert api.call("GET", "/referrals?state=lost").status_code == 422


def test_tokens_scopes_revocation_expiry_and_no_sessions(
    app: Flask, partners: dict[str, int]
) -> None:
    client_id, token = make_api_client(
        app, ApiClientKind.PARTNER, agency_id=partners[f"csc-{LAMBETH}"]
    )
    _, reader = make_api_client(
        app,
        ApiClientKind.PARTNER,
        agency_id=partners[f"csc-{LAMBETH}"],
        scopes=(ApiScope.REFERRALS_READ,),
    )
    _, intake_token = make_api_client(app, ApiClientKind.POLICE_INTAKE)
    assert Api(app, token).call("GET", "/referrals").status_code == 200
    assert Api(app, intake_token).call("GET", "/referrals").status_code == 403
    assert (
        Api(app, reader).call("PUT", "/webhook", json={"url": "https://x.example/h"}).status_code
        == 403
    )
    assert Api(app, token + "x").call("GET", "/referrals").status_code == 401
    assert Api(app, None).call("GET", "/referrals").status_code == 401

    # A signed-in partner's session cookie opens nothing in the API...
    browser = app.test_client()
    sign_in(browser, user_with(app, Role.PARTNER, agency_kind=AgencyKind.CHILDRENS_SOCIAL_CARE)[1])
    assert browser.get("/api/v1/referrals").status_code == 401
    # ...and a token opens no page.
    page = app.test_client().get("/portal/", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]

    with app.app_context():
        api_clients.revoke(Actor.system("tests"), client_id)
        db.session.commit()
    assert Api(app, token).call("GET", "/referrals").status_code == 401
    _, expiring = make_api_client(
        app,
        ApiClientKind.PARTNER,
        agency_id=partners[f"csc-{LAMBETH}"],
        expires_at=clock.now() + timedelta(days=1),
    )
    assert Api(app, expiring).call("GET", "/referrals").status_code == 200
    clock.freeze(clock.now() + timedelta(days=2))
    assert Api(app, expiring).call("GET", "/referrals").status_code == 401
    with app.app_context():
        refused = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "api.token_refused")
        ).all()
        assert len(refused) == 5  # a wrong token, none, a session cookie, revoked, expired


def test_every_error_is_a_problem_document(app: Flask, partners: dict[str, int]) -> None:
    _, token = make_api_client(app, ApiClientKind.PARTNER, agency_id=partners[f"csc-{LAMBETH}"])
    api = Api(app, token)
    runtime = app.extensions[EXTENSION_KEY]
    app.extensions[EXTENSION_KEY] = replace(
        runtime, settings=replace(runtime.settings, api_calls_per_minute=3)
    )
    assert api.call("GET", "/nowhere").status_code == 404
    assert api.call("DELETE", "/referrals").status_code == 405
    big = api.call("POST", "/referrals/REF-000001/messages", json={"body": "x" * 2_000_000})
    assert big.status_code == 413
    assert [api.call("GET", "/referrals").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.call("GET", "/referrals")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
