"""Administrators manage agencies and users; auditors browse the trail.

Neither sees case content."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.user import Role, User
from referrals.runtime import runtime
from tests.factories import log_incident, sign_in, user_with

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def _as(app: Flask, role: Role) -> tuple[FlaskClient, str]:
    _, email = user_with(app, role)
    client = app.test_client()
    return client, sign_in(client, email)


def test_administrator_creates_a_school_and_a_partner_user(app: Flask) -> None:
    client, csrf = _as(app, Role.ADMINISTRATOR)
    response = client.post(
        "/admin/agencies/new",
        data={
            "csrf_token": csrf,
            "code": "sch-900777",
            "name": "Meadow Bank Primary (synthetic)",
            "kind": "school",
            "borough_code": "E09000022",
            "school_urn": "900777",
            "notice_email": "DSL@meadow.example",
            "active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        school = db.session.query(Agency).filter_by(school_urn="900777").one()
        assert (school.code, school.notice_email) == ("SCH-900777", "dsl@meadow.example")
        school_id = school.id
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf,
            "email": "dsl@meadow.example",
            "display_name": "Meadow DSL",
            "role": "partner",
            "agency_id": str(school_id),
            "password": "a-long-enough-passphrase",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert "dsl@meadow.example" in client.get("/admin/users").text
    with app.app_context():
        events = {
            e.action for e in db.session.query(AuditEvent).filter_by(kind=AuditKind.ALTERATION)
        }
    assert {"agency.created", "user.created"} <= events


def test_agency_and_user_errors_sit_beside_their_fields(app: Flask) -> None:
    client, csrf = _as(app, Role.ADMINISTRATOR)
    response = client.post(
        "/admin/agencies/new",
        data={
            "csrf_token": csrf,
            "code": "!",
            "name": "",
            "kind": "school",
            "borough_code": "",
            "school_urn": "12",
        },
    )
    assert response.status_code == 400
    for message in (
        "Code must be",
        "name (200 characters or fewer)",
        "6-digit URN",
        "Choose the borough",
    ):
        assert message in response.text
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf,
            "email": "not-an-email",
            "display_name": "X",
            "role": "partner",
            "agency_id": "",
        },
    )
    assert response.status_code == 400
    for message in ("Enter an e-mail address", "belongs to one partner agency"):
        assert message in response.text
    with app.app_context():
        assert db.session.query(User).count() == 1  # only the administrator


def test_edit_user_changes_role_and_ignores_unknown_fields(app: Flask) -> None:
    client, csrf = _as(app, Role.ADMINISTRATOR)
    user_id, email = user_with(app, Role.DESK_OFFICER)
    response = client.post(
        f"/admin/users/{user_id}/edit",
        data={
            "csrf_token": csrf,
            "email": email,
            "display_name": "Renamed",
            "role": "supervisor",
            "agency_id": "",
            "active": "y",
            "password_hash": "forged",
            "id": "999",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        assert (user.role, user.display_name, user.id) == (Role.SUPERVISOR, "Renamed", user_id)
        assert user.password_hash.startswith("$argon2id$")
    assert client.get("/admin/users/999999/edit").status_code == 404


def test_create_admin_command(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "--email", "First@Desk.example"],
        input="first-admin-passphrase\nfirst-admin-passphrase\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert (
            db.session.query(User)
            .filter_by(email="first@desk.example", role=Role.ADMINISTRATOR)
            .count()
            == 1
        )
    weak = runner.invoke(
        args=["users", "create-admin", "--email", "second@desk.example"], input="short\nshort\n"
    )
    assert weak.exit_code != 0 and "at least 12" in weak.output


def test_auditor_browses_by_record_actor_and_date_without_identities(app: Flask) -> None:
    clock.freeze(NOW)
    incident_id = log_incident(app)
    client, _ = _as(app, Role.AUDITOR)
    page = client.get(f"/audit/?record_type=incident&record_id={incident_id}")
    assert page.status_code == 200
    assert "incident.logged" in page.text
    assert "Robin" not in page.text and "Testwood" not in page.text
    assert "system:tests" in client.get("/audit/?actor=system:tests").text
    assert "No events match" in client.get("/audit/?date_from=2030-01-01").text
    bad = client.get("/audit/?date_from=21/11/2026")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text
    verify = client.get("/audit/verify")
    assert "Intact" in verify.text


def test_administrator_and_auditor_see_no_case_content(app: Flask) -> None:
    clock.freeze(NOW)
    incident_id = log_incident(app)
    for role in (Role.ADMINISTRATOR, Role.AUDITOR):
        client, _ = _as(app, role)
        assert client.get(f"/desk/incidents/{incident_id}").status_code == 403
        assert client.get("/portal/").status_code == 403
    partner_client, _ = _as(app, Role.AUDITOR)
    assert partner_client.get("/admin/users").status_code == 403


def test_agency_list_is_paginated_and_filtered(app: Flask) -> None:
    client, _ = _as(app, Role.ADMINISTRATOR)
    with app.app_context():
        from tests.factories import make_agency

        size = runtime().settings.page_size  # the page size every list reads
        for _ in range(size + 5):
            make_agency(kind=AgencyKind.SCHOOL)
        make_agency(kind=AgencyKind.MARAC)
        db.session.commit()
    first = client.get("/admin/agencies")
    assert "Page 1 of 2" in first.text
    assert first.text.count('/edit">') == size, "one page holds the page size"
    marac = client.get("/admin/agencies?kind=marac")
    assert "MARAC coordinator" in marac.text and "Page 1 of" not in marac.text
