"""Every question on every page has a visible label or legend tied to its inputs: every route,
as each role, empty and with errors (each form posted with nothing in it), and the intake form
with several children and an error for each. Checked on the HTML sent (``tests/labels.py``)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referrals.models.user import Role
from tests.factories import csrf_from, sign_in, user_with
from tests.integration.intake_form import incident_form
from tests.labels import problems
from tests.route_walk import client_as, paths

SKIP_POST = {"auth.sign_out"}


def _check(client: FlaskClient, method: str, path: str, found: list[str], **kw: object) -> int:
    response = client.open(path, method=method, **kw)  # type: ignore[arg-type]
    if response.mimetype == "text/html" and response.status_code < 500:
        found.extend(f"{method} {path}: {p}" for p in problems(response.text))
        return 1
    return 0


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "signed_out")
def test_every_page_labels_its_questions(
    app: Flask, world: dict[str, int], role: Role | None
) -> None:
    client = client_as(app, role, world)
    found: list[str] = []
    pages = 0
    routes = list(paths(app, world))
    for _endpoint, path, methods in routes:
        if "GET" in methods:
            pages += _check(client, "GET", path, found)
    app.config["WTF_CSRF_ENABLED"] = False  # the forms' answers to empty input, not to CSRF
    for endpoint, path, methods in routes:
        if "POST" in methods and endpoint not in SKIP_POST:
            pages += _check(client, "POST", path, found, data={})
    assert pages > 20
    assert found == [], "\n".join(found)


def test_intake_with_several_children_and_an_error_each(app: Flask) -> None:
    desk_client = FlaskClient(app, use_cookies=True)
    sign_in(desk_client, user_with(app, Role.DESK_OFFICER)[1])
    page = desk_client.get("/desk/incidents/new")
    data = incident_form(csrf_from(page.text), children=3, action="add-child")
    three = desk_client.post("/desk/incidents/new", data=data)
    form = three.text.split('id="add-adult-template"')[0]  # the blank copies for JavaScript
    assert form.count('data-kind="child"') == 4 and form.count('data-kind="adult"') == 1
    assert problems(three.text) == []

    data = incident_form(csrf_from(page.text), children=2)
    data["children-0-family_name"] = ""
    data["children-1-date_of_birth"] = ["31", "2", "2016"]
    wrong = desk_client.post("/desk/incidents/new", data=data)
    assert wrong.status_code in (200, 400, 422)
    assert problems(wrong.text) == []
    summary = wrong.text.split("govuk-error-summary__list")[1].split("</ul>")[0]
    assert "Child 1: " in summary and "Child 2: " in summary
