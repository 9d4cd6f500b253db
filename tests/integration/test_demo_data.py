"""``demo load``: the London front doors, synthetic schools, one user per role, synthetic
incidents through the import path; a second run keeps what is there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select

from referrals import create_app, demo
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.referral import Referral
from referrals.models.user import Role, User
from referrals.reference import BOROUGHS
from referrals.services import audit
from tests.conftest import make_settings
from tests.factories import csrf_from, pass_factor


def test_demo_load_and_reload(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "demo data loaded: 12 synthetic incidents" in first.output
    assert "referrals sent" in first.output
    assert "desk.officer@desk.example" in first.output
    with app.app_context():
        front_doors = db.session.scalars(
            select(Agency.borough_code).where(Agency.kind == AgencyKind.CHILDRENS_SOCIAL_CARE)
        ).all()
        assert sorted(d or "" for d in front_doors) == sorted(BOROUGHS)
        schools = db.session.scalars(select(Agency).where(Agency.kind == AgencyKind.SCHOOL)).all()
        assert len(schools) >= 36 and len({s.borough_code for s in schools}) >= 5
        assert all(s.school_urn and len(s.school_urn) == 6 for s in schools)
        roles = {u.role for u in db.session.scalars(select(User))}
        assert roles == set(Role)
        partner_agencies = db.session.scalars(
            select(Agency.kind).join(User, User.agency_id == Agency.id)
        ).all()
        assert partner_agencies.count(AgencyKind.SCHOOL) == 2
        assert partner_agencies.count(AgencyKind.CHILDRENS_SOCIAL_CARE) == 2
        # every child at a school goes to a school in the borough where the child lives
        for link in db.session.scalars(
            select(IncidentPerson).where(IncidentPerson.school_id.is_not(None))
        ):
            assert link.school is not None and link.school.borough_code == link.borough_code
        assert audit.verify().ok
        # every demo partner has at least one referral in their inbox
        for agency_id in db.session.scalars(
            select(User.agency_id).where(User.role == Role.PARTNER)
        ):
            assert db.session.scalar(
                select(func.count(Referral.id)).where(Referral.agency_id == agency_id)
            ), f"agency {agency_id} has no demo referral"
    second = runner.invoke(args=["demo", "load"])
    assert "already holds data: kept" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Incident.id))) == 12


def test_a_demo_user_signs_in_with_the_published_secret(app: Flask) -> None:
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["demo", "load"])
    officer = demo.DEMO_USERS[0]
    assert officer.totp_secret in loaded.output  # printed beside the sign-in
    code = runner.invoke(args=["demo", "code", officer.email])
    assert code.exit_code == 0, code.output
    current = code.output.split()[0]
    assert current == pyotp.TOTP(officer.totp_secret).now()
    client = app.test_client()
    page = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "email": officer.email,
            "password": officer.password,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert pass_factor(client, officer.email, current).status_code == 302
    assert client.get("/desk/").status_code == 200
    assert runner.invoke(args=["demo", "code", "someone@else.example"]).exit_code != 0


@pytest.mark.parametrize(
    "command",
    [["demo", "load"], ["demo", "generate", "--incidents", "5"], ["demo", "code", "x@y.example"]],
)
def test_demo_commands_refuse_to_run_in_production(
    database_url: str, tmp_path: Path, command: list[str]
) -> None:
    settings = make_settings(database_url, tmp_path / "prod", REFERRALS_ENV="production")
    app = create_app(settings)
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code != 0
    assert "refused in production" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0
        db.engine.dispose()


def test_the_readme_publishes_each_demo_users_secret() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for user in demo.DEMO_USERS:
        assert f"| {user.email} | {user.password} | `{user.totp_secret}` |" in readme


@pytest.mark.parametrize(
    "day",
    ["2026-11-23T07:00:00+00:00", "2026-12-27T12:00:00+00:00", "2027-08-14T22:00:00+00:00"],
    ids=["monday-before-school", "christmas-break", "summer-saturday-night"],
)
def test_demo_gives_every_screen_something_whatever_the_day(app: Flask, day: str) -> None:
    """Overdue, due within two hours, paused, a failed e-mail, a decline and a question, on a
    Monday morning, in the Christmas break and on a summer Saturday night."""
    from datetime import datetime

    from referrals import clock
    from referrals.models.outbox import OutboxMessage, OutboxState
    from referrals.queries import needs_desk

    clock.freeze(datetime.fromisoformat(day))
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    now = clock.now()
    with app.app_context():
        referrals = db.session.scalars(select(Referral)).all()
        due = [r.clock_due_at for r in referrals if r.clock_due_at and r.paused_at is None]
        assert any(at < now for at in due), "nothing overdue"
        assert any(now <= at < now + timedelta(hours=2) for at in due)
        assert any(r.paused_at is not None for r in referrals)
        assert any(r.state.value == "declined" for r in referrals)
        failed = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED)
        ).all()
        assert len(failed) == 1
        assert needs_desk.counts().questions >= 1
