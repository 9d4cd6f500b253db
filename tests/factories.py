"""Keyword-only factories with sensible defaults. All data is synthetic."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from werkzeug.test import TestResponse

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.api_client import ApiClientKind, ApiScope
from referrals.models.incident import Incident, PersonRole, RiskGrade
from referrals.models.user import RecoveryCode, Role, User
from referrals.services import admin, api_clients, factors, intake
from referrals.services.actors import Actor
from referrals.services.intake import AdultInput, ChildInput, IncidentInput

PASSWORD = "correct-battery-horse-staple"
TOTP_SECRET = "DESKTESTSECRETAAAAAAAAAAAAAAAAAA"  # synthetic: every test user's authenticator app
LAMBETH = "E09000022"
SOUTHWARK = "E09000028"
_counter = itertools.count(1)
SYSTEM = Actor.system("tests")


def make_agency(
    *,
    kind: AgencyKind = AgencyKind.SCHOOL,
    borough: str = LAMBETH,
    urn: str | None = None,
    name: str | None = None,
    code: str | None = None,
) -> Agency:
    n = next(_counter)
    if kind is AgencyKind.SCHOOL and urn is None:
        urn = f"{900000 + n:06d}"
    return admin.create_agency(
        SYSTEM,
        admin.AgencyInput(
            code=code or f"{kind.value[:3].upper()}-{n}",
            name=name or f"Synthetic {kind.value} {n}",
            kind=kind,
            borough_code=borough if kind is not AgencyKind.POLICE_DESK else "",
            school_urn=urn or "",
            notice_email=f"notice{n}@agency.example",
        ),
    )


def make_user(
    *,
    role: Role = Role.DESK_OFFICER,
    agency: Agency | None = None,
    email: str | None = None,
    password: str = PASSWORD,
    factor: bool = True,
) -> User:
    """A user with this password and (unless ``factor=False``) an authenticator app whose
    secret is :data:`TOTP_SECRET`."""
    n = next(_counter)
    user = admin.create_user(
        SYSTEM,
        admin.UserInput(
            email=email or f"{role.value}{n}@desk.example",
            display_name=f"Synthetic {role.value} {n}",
            role=role,
            agency_id=agency.id if agency else None,
        ),
        password,
    )
    if factor:
        factors.add_totp(SYSTEM, user.id, TOTP_SECRET, "Test app")
    return user


def child(**overrides: Any) -> ChildInput:
    values: dict[str, Any] = dict(
        given_name="Robin",
        family_name="Testwood",
        date_of_birth=date(2016, 3, 27),
        address="1 Example Road, London",
        borough_code=LAMBETH,
        lives_there=True,
        present=True,
        present_where="in the kitchen",
        spoken_to=False,
        voice="",
        school_urn="",
        home_educated=False,
        known_to_social_care=None,
    )
    values.update(overrides)
    return ChildInput(**values)


def adult(**overrides: Any) -> AdultInput:
    values: dict[str, Any] = dict(
        role=PersonRole.VICTIM,
        given_name="Avery",
        family_name="Testwood",
        date_of_birth=date(1990, 1, 2),
        address="1 Example Road, London",
        phone="020 7946 0000",
    )
    values.update(overrides)
    return AdultInput(**values)


def incident_input(**overrides: Any) -> IncidentInput:
    received = clock.now() - timedelta(hours=1)
    values: dict[str, Any] = dict(
        submission_key=uuid.uuid4().hex,
        police_reference=f"CAD{next(_counter):04d}/21NOV26",
        occurred_at=received - timedelta(hours=3),
        received_at=received,
        borough_code=LAMBETH,
        location="1 Example Road, London",
        summary="Synthetic: shouting heard by a neighbour.",
        risk_actuarial=RiskGrade.MEDIUM,
        risk_judgement=None,
        risk_rationale="",
        adults=[adult()],
        children=[child()],
    )
    values.update(overrides)
    return IncidentInput(**values)


def log_incident(app: Flask, **overrides: Any) -> int:
    with app.app_context():
        incident, _ = intake.log_incident(SYSTEM, incident_input(**overrides))
        db.session.commit()
        return incident.id


def setup(app: Flask, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a factory in its own committed unit of work; return the id of what it made."""
    with app.app_context():
        made = fn(*args, **kwargs)
        db.session.commit()
        return made.id


def user_with(app: Flask, role: Role, *, agency_kind: AgencyKind | None = None) -> tuple[int, str]:
    with app.app_context():
        agency = make_agency(kind=agency_kind) if agency_kind else None
        user = make_user(role=role, agency=agency)
        db.session.commit()
        return user.id, user.email


CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match[1]


def one_time_code(app: Flask, email: str) -> str:
    """A fresh recovery code for this user: a second factor that any number of sign-ins in the
    same 30 seconds (or at one frozen test time) can each use, unlike an app's code."""
    code = f"test-{next(_counter):06d}"
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        assert user_id, f"no user {email}"
        db.session.add(RecoveryCode(user_id=user_id, code_hash=factors.recovery_hash(code)))
        db.session.commit()
    return code


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the real forms (password, then a second factor); return a CSRF token
    valid for the new session."""
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["Location"].endswith("/sign-in/factor"), response.headers["Location"]
    response = pass_factor(client, email)
    assert response.status_code == 302, response.text[:500]
    return csrf_from(client.get("/account/password").text)


def pass_factor(client: FlaskClient, email: str, code: str | None = None) -> TestResponse:
    """The second-factor step after a correct password: a fresh recovery code unless given."""
    step = client.get("/sign-in/factor")
    return client.post(
        "/sign-in/factor",
        data={
            "code": code or one_time_code(client.application, email),
            "csrf_token": csrf_from(step.text),
        },
    )


M = TypeVar("M")


def load(model: type[M], ident: int) -> M:
    """The row with this id, which the test knows exists (in an app context)."""
    found = db.session.get(model, ident)
    assert found is not None, f"no {model.__name__} {ident}"
    return found


def count(app: Flask, model: type[Any]) -> int:
    with app.app_context():
        return db.session.query(model).count()


def incident_at(moment: datetime) -> dict[str, datetime]:
    return {"received_at": moment, "occurred_at": moment - timedelta(hours=1)}


def notification_json(ident: str, **overrides: Any) -> dict[str, Any]:
    """A notification in the format `intake import` and the API read (synthetic people)."""
    n = {
        "id": ident,
        "police_reference": "CAD7777/20NOV26",
        "occurred_at": "2026-11-20T21:00:00+00:00",
        "received_at": "2026-11-20T23:00:00Z",
        "borough": "E09000028",
        "location": "3 Imaginary Way, London",
        "summary": "Synthetic import.",
        "risk": {"actuarial": "high"},
        "adults": [{"role": "victim", "given_name": "Jules", "family_name": "Mockley"}],
        "children": [
            {
                "given_name": "Indigo",
                "family_name": "Mockley",
                "date_of_birth": "2018-06-01",
                "address": "3 Imaginary Way, London",
                "borough": "E09000028",
                "lives_there": True,
                "present": False,
                "spoken_to": False,
            }
        ],
    }
    n.update(overrides)
    return n


def make_api_client(
    app: Flask,
    kind: ApiClientKind,
    *,
    agency_id: int | None = None,
    scopes: tuple[ApiScope, ...] | None = None,
    expires_at: datetime | None = None,
) -> tuple[int, str]:
    """An API client and its token (shown once, as to the administrator)."""
    with app.app_context():
        made = api_clients.create(
            SYSTEM,
            name=f"Synthetic client {next(_counter)}",
            kind=kind,
            agency_id=agency_id,
            scopes=[s.value for s in (scopes or kind.scopes)],
            expires_at=expires_at,
        )
        db.session.commit()
        return made.client.id, made.token


__all__ = ["Agency", "Incident", "User"]


def front_doors(app: Flask, *boroughs: str) -> dict[str, int]:
    """Children's social care front doors and MARAC coordinators for the boroughs given."""
    made: dict[str, int] = {}
    with app.app_context():
        for borough in boroughs:
            made[f"csc-{borough}"] = make_agency(
                kind=AgencyKind.CHILDRENS_SOCIAL_CARE, borough=borough
            ).id
            made[f"marac-{borough}"] = make_agency(kind=AgencyKind.MARAC, borough=borough).id
        db.session.commit()
    return made


def send_incident(app: Flask, incident_id: int, waivers: dict[int, str] | None = None) -> list[int]:
    from referrals.services import routing

    with app.app_context():
        sent = routing.send(SYSTEM_DESK, incident_id, waivers)
        db.session.commit()
        return [r.id for r in sent]


SYSTEM_DESK = Actor(user_id=None, label="desk:tests", role=Role.DESK_OFFICER)


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    """Every statement the app sends to the database while the block runs."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)
