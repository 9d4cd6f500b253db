"""Bad input of every kind gets a 4xx with a message, never a 500, and saves nothing half-way.
Hypothesis throws arbitrary text at every intake field on both engines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referrals import clock
from referrals.models.incident import Incident
from referrals.models.user import Role
from tests.factories import count, sign_in, user_with
from tests.integration.intake_form import incident_form

FIELDS = [
    "police_reference",
    "occurred_time",
    "received_time",
    "borough",
    "location",
    "summary",
    "risk_actuarial",
    "risk_judgement",
    "risk_rationale",
    "adults-0-role",
    "adults-0-phone",
    "children-0-given_name",
    "children-0-borough",
    "children-0-school_urn",
    "children-0-present",
    "children-0-known_to_social_care",
    "submission_key",
]
HOSTILE = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "{{7*7}}",
            "<script>alert(1)</script>",
            "'; DROP TABLE incidents; --",
            "\x00",
            "9" * 40,
            "=cmd|' /C calc'!A0",
            "\u202e\u0000",
            "x" * 5000,
        ]
    ),
)


@pytest.fixture
def desk(app: Flask) -> tuple[FlaskClient, str]:
    clock.freeze(datetime(2026, 11, 21, 10, tzinfo=UTC))
    _, email = user_with(app, Role.DESK_OFFICER)
    client = app.test_client()
    return client, sign_in(client, email)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(FIELDS), value=HOSTILE)
def test_hostile_text_in_any_field_never_breaks_intake(
    app: Flask, desk: tuple[FlaskClient, str], field: str, value: str
) -> None:
    client, csrf = desk
    before = count(app, Incident)
    response = client.post("/desk/incidents/new", data=incident_form(csrf) | {field: value})
    assert response.status_code in (302, 400), response.status_code
    assert "Sorry, there is a problem" not in response.text
    if response.status_code == 400:
        assert count(app, Incident) == before  # nothing saved half-way
        assert "There is a problem" in response.text


@pytest.mark.parametrize(
    "parts",
    [
        ["99999999999999999999", "1", "2026"],
        ["1", "1", "-5"],
        ["a", "b", "c"],
        ["1", "13", "2020"],
        ["0", "0", "0000"],
        ["1"],
    ],
)
def test_impossible_dates_are_specific_errors(
    desk: tuple[FlaskClient, str], parts: list[str]
) -> None:
    client, csrf = desk
    response = client.post(
        "/desk/incidents/new", data=incident_form(csrf) | {"children-0-date_of_birth": parts}
    )
    assert response.status_code == 400
    assert "Date of birth must" in response.text


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/desk/incidents/99999999999999999999999", 404),
        ("/desk/incidents/0", 404),
        ("/desk/incidents/-1", 404),
        ("/desk/incidents/1/people/9999999999999/reveal", 404),
        # An id no column can hold matches no route: not found, whoever asks.
        ("/admin/users/99999999999999999999/edit", 404),
    ],
)
def test_out_of_range_ids_are_not_found(
    desk: tuple[FlaskClient, str], url: str, status: int
) -> None:
    client, _ = desk
    assert client.get(url).status_code == status


def test_unknown_household_actions_are_refused(desk: tuple[FlaskClient, str]) -> None:
    client, csrf = desk
    for action in ("remove-child-abc", "explode-child-1", "add-dog"):
        response = client.post("/desk/incidents/new", data=incident_form(csrf, action=action))
        assert response.status_code == 400
