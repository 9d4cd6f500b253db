"""Logging an incident through the desk form: validation beside each field, nothing lost,
one incident per submission, and adding or removing a child keeping what was typed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.user import Role
from referrals.services import intake
from tests.factories import count, make_agency, setup, sign_in, user_with
from tests.integration.intake_form import child_fields, incident_form

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(app: Flask) -> tuple[FlaskClient, str]:
    clock.freeze(NOW)
    _, email = user_with(app, Role.DESK_OFFICER)
    client = app.test_client()
    return client, sign_in(client, email)


def _post(desk: tuple[FlaskClient, str], **overrides: Any) -> Any:
    client, csrf = desk
    children = overrides.pop("children", 1)
    return client.post(
        "/desk/incidents/new", data=incident_form(csrf, children=children, **overrides)
    )


def test_a_valid_incident_is_logged_and_shown_by_pseudonym(
    app: Flask, desk: tuple[FlaskClient, str]
) -> None:
    response = _post(desk, children=2)
    assert response.status_code == 302, response.text[:2000]
    page = desk[0].get(response.headers["Location"])
    assert "CAD4321/21NOV26" in page.text
    assert "logged with 2 children" in page.text
    assert "Child0" not in page.text and "Sampleton" not in page.text  # names stay hidden
    with app.app_context():
        incident = db.session.query(Incident).one()
        pseudonyms = [p.person.pseudonym for p in incident.people]
    assert len(pseudonyms) == 3
    assert all(p in page.text for p in pseudonyms)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"children-0-date_of_birth": ["1", "1", "2027"]},
            "children-0-date_of_birth-day",
            "Child 1: date of birth must be in the past",
        ),
        (
            {"children-0-date_of_birth": ["1", "1", "2005"]},
            "children-0-date_of_birth-day",
            "Child 1: a child must be under 18 on the day of the incident",
        ),
        (
            {"children-0-date_of_birth": ["31", "2", "2016"]},
            "children-0-date_of_birth-day",
            "Child 1: date of birth must be a real date",
        ),
        (
            {"children-0-date_of_birth": ["", "2", "2016"]},
            "children-0-date_of_birth-day",
            "Child 1: date of birth must include a day",
        ),
        (
            {"occurred_date": ["21", "11", "2026"], "occurred_time": "09:00"},
            "occurred_date-day",
            "must have happened before the desk received it",
        ),
        ({"received_date": ["22", "11", "2026"]}, "received_date-day", "cannot be in the future"),
        ({"occurred_time": "25:99"}, "occurred_time", "24-hour clock"),
        (
            {"children-0-school_urn": "999999"},
            "children-0-school_urn",
            "Child 1: no school or setting with URN 999999",
        ),
        (
            {"children-0-school_urn": "12ab"},
            "children-0-school_urn",
            "Child 1: a school URN is 6 digits",
        ),
        (
            {"children-0-present": "yes", "children-0-present_where": ""},
            "children-0-present_where",
            "Child 1: enter where the child was",
        ),
        (
            {"risk_actuarial": "high", "risk_judgement": "medium"},
            "risk_judgement",
            "never lower it below the actuarial grade (High)",
        ),
        ({"risk_judgement": "high"}, "risk_rationale", "Give the rationale"),
        ({"police_reference": "<script>"}, "police_reference", "Police reference must be"),
        ({"summary": "bad\x00byte"}, "summary", "control characters"),
    ],
)
def test_each_invalid_field_gets_its_own_message_and_nothing_typed_is_lost(
    app: Flask,
    desk: tuple[FlaskClient, str],
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = _post(desk, **overrides)
    assert response.status_code == 400
    assert message in response.text
    assert f'href="#{field}"' in response.text  # the summary links to the field
    assert 'value="Child0"' in response.text  # what was typed is still there
    if "summary" not in overrides:
        assert "Synthetic: raised voices reported." in response.text
    assert count(app, Incident) == 0


def test_home_educated_child_with_a_school_is_refused(
    app: Flask, desk: tuple[FlaskClient, str]
) -> None:
    setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="900123")
    response = _post(desk, **{"children-0-school_urn": "900123", "children-0-home_educated": "y"})
    assert response.status_code == 400
    assert "electively home-educated has no school" in response.text


def test_a_known_school_is_accepted_and_recorded(app: Flask, desk: tuple[FlaskClient, str]) -> None:
    school = setup(app, make_agency, kind=AgencyKind.SCHOOL, urn="900124")
    response = _post(desk, **{"children-0-school_urn": "900124"})
    assert response.status_code == 302
    with app.app_context():
        link = db.session.query(IncidentPerson).filter_by(role="child").one()
        assert link.school_id == school


def test_an_empty_household_is_refused(app: Flask, desk: tuple[FlaskClient, str]) -> None:
    blank_child = {k: "" for k in child_fields(0)}
    blank_child["children-0-date_of_birth"] = ["", "", ""]  # type: ignore[assignment]
    response = _post(desk, **blank_child)
    assert response.status_code == 400
    assert "Add at least one child" in response.text
    assert count(app, Incident) == 0


def test_double_submission_creates_one_incident(app: Flask, desk: tuple[FlaskClient, str]) -> None:
    client, csrf = desk
    form = incident_form(csrf)
    first = client.post("/desk/incidents/new", data=form)
    second = client.post("/desk/incidents/new", data=form)  # a refresh or a second click
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert "already submitted" in client.get(second.headers["Location"]).text
    assert count(app, Incident) == 1


def test_concurrent_double_submission_creates_one_incident(app: Flask) -> None:
    clock.freeze(NOW)
    _, email = user_with(app, Role.DESK_OFFICER)
    clients = [app.test_client() for _ in range(3)]
    tokens = [sign_in(c, email) for c in clients]
    form = incident_form(tokens[0])
    statuses: list[int] = []
    barrier = threading.Barrier(len(clients))

    def submit(client: FlaskClient, token: str) -> None:
        barrier.wait()
        statuses.append(
            client.post("/desk/incidents/new", data={**form, "csrf_token": token}).status_code
        )

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302, 302, 302]
    assert count(app, Incident) == 1
    with app.app_context():
        logged = db.session.query(AuditEvent).filter_by(kind=AuditKind.COLLECTION).count()
    assert logged == 1


def test_a_submission_overtaken_after_its_first_look_is_answered_with_the_winner(
    app: Flask, desk: tuple[FlaskClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window the concurrent test can only hit by chance: the winner commits after this
    request looked for its submission key and before it checks the police reference. The
    reference is then in use by the same form, which is a repeat, not a re-used reference."""
    client, csrf = desk
    form = incident_form(csrf)
    assert client.post("/desk/incidents/new", data=form).status_code == 302
    monkeypatch.setattr(intake, "find_by_submission", lambda key: None)
    again = client.post("/desk/incidents/new", data=form)
    assert again.status_code == 302, again.text[:2000]
    assert "already submitted" in client.get(again.headers["Location"]).text
    assert count(app, Incident) == 1


def test_adding_a_child_keeps_what_was_typed(app: Flask, desk: tuple[FlaskClient, str]) -> None:
    response = _post(desk, action="add-child", **{"children-0-given_name": "Frankie"})
    assert response.status_code == 200
    assert 'value="Frankie"' in response.text
    assert 'id="children-1"' in response.text  # a second, empty child
    assert 'data-focus="children-1"' in response.text
    assert count(app, Incident) == 0


def test_removing_a_child_keeps_the_others(app: Flask, desk: tuple[FlaskClient, str]) -> None:
    data = {**child_fields(1, given_name="Second"), **child_fields(2, given_name="Third")}
    response = _post(desk, action="remove-child-1", children=1, **data)
    assert response.status_code == 200
    assert 'value="Child0"' in response.text
    assert 'value="Third"' in response.text
    assert "Second" not in response.text
    assert 'id="children-2"' not in response.text  # renumbered: Third is now child 2 of 2
    assert 'name="children-1-given_name"' in response.text


def test_raised_risk_with_rationale_is_kept(app: Flask, desk: tuple[FlaskClient, str]) -> None:
    response = _post(desk, risk_judgement="high", risk_rationale="Escalating pattern reported.")
    assert response.status_code == 302
    with app.app_context():
        incident = db.session.query(Incident).one()
        assert (incident.risk_actuarial.value, incident.risk_grade.value) == ("medium", "high")
    page = desk[0].get(response.headers["Location"])
    assert "Escalating pattern reported." in page.text


def test_a_time_that_did_not_exist_in_london_is_refused(
    app: Flask, desk: tuple[FlaskClient, str]
) -> None:
    clock.freeze(datetime(2026, 4, 1, 12, tzinfo=UTC))
    response = _post(
        desk,
        occurred_date=["29", "3", "2026"],
        occurred_time="01:30",
        received_date=["29", "3", "2026"],
        received_time="09:00",
    )
    assert response.status_code == 400
    assert "clocks went forward" in response.text


def test_a_police_reference_logged_before_warns_and_needs_a_reason(
    app: Flask, desk: tuple[FlaskClient, str]
) -> None:
    assert _post(desk).status_code == 302
    again = _post(desk, submission_key="b" * 32)
    assert again.status_code == 400
    assert "CAD4321/21NOV26 was already logged on" in again.text
    assert 'data-testid="reference-reused"' in again.text and "open that incident" in again.text
    assert count(app, Incident) == 1
    logged = _post(
        desk,
        submission_key="c" * 32,
        duplicate_reason="A second call-out to the same address the next night",
    )
    assert logged.status_code == 302
    with app.app_context():
        assert db.session.query(Incident).count() == 2
        event = (
            db.session.query(AuditEvent)
            .filter(AuditEvent.action == "incident.logged")
            .order_by(AuditEvent.seq.desc())
            .first()
        )
        assert event is not None
        assert event.reason == "A second call-out to the same address the next night"
        assert event.detail and "reference_reused_from" in event.detail


def test_fields_rendered_once_never_keep_what_was_typed(desk: tuple[FlaskClient, str]) -> None:
    """Empty fields are rendered once per process; a typed name, date or error never is kept."""
    from referrals.web import forms

    page = desk[0].get("/desk/incidents/new")
    assert page.status_code == 200 and forms._RENDERED  # the empty form filled the store
    wrong = _post(desk, children=2, **{"children-1-date_of_birth": ["31", "2", "2016"]})
    assert wrong.status_code == 400 and "Child1" in wrong.text
    kept = "".join(forms._RENDERED)
    assert "Child1" not in kept and "Sampleton" not in kept and "2016" not in kept
    assert 'value="31"' not in kept
