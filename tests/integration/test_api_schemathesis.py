"""schemathesis runs every operation of the served OpenAPI document with generated input, as
each kind of client, on both engines: no server error, no answer outside the document, and no
record of another agency in any answer."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from referrals.models.api_client import ApiClientKind
from referrals.models.referral import reference_for
from tests.factories import (
    LAMBETH,
    SOUTHWARK,
    child,
    front_doors,
    log_incident,
    make_api_client,
    send_incident,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25  # per operation and client kind


@pytest.mark.parametrize("kind", list(ApiClientKind), ids=lambda k: k.value)
def test_generated_calls_break_nothing(app: Flask, kind: ApiClientKind) -> None:
    doors = front_doors(app, LAMBETH, SOUTHWARK)
    ours = send_incident(app, log_incident(app, children=[child(borough_code=LAMBETH)]))
    theirs = send_incident(
        app,
        log_incident(app, borough_code=SOUTHWARK, children=[child(borough_code=SOUTHWARK)]),
    )
    foreign = {reference_for(r) for r in theirs if r not in ours}
    agency = doors[f"csc-{LAMBETH}"] if kind is ApiClientKind.PARTNER else None
    _, token = make_api_client(app, kind, agency_id=agency)
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    answers: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            nonlocal calls
            response = case.call(headers=headers)
            calls += 1
            case.validate_response(response, checks=CHECKS, headers=headers)
            answers.append(response.text)

        run()
    assert calls >= EXAMPLES * 5
    leaked = [a for a in answers if any(number in a for number in foreign)]
    assert leaked == []
