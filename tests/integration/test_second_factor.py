"""A second factor for every account (services/factors.py, web/auth.py):
enrolment at first sign-in, TOTP accepted once, security keys, recovery codes, nothing
reachable before the factor, adding and removing methods, an administrator's reset."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditEvent
from referrals.models.user import FactorKind, RecoveryCode, Role, User, UserFactor, UserSession
from referrals.services import factors
from tests.factories import (
    PASSWORD,
    SYSTEM,
    TOTP_SECRET,
    csrf_from,
    make_agency,
    make_user,
    pass_factor,
    sign_in,
    user_with,
)
from tests.soft_authenticator import SoftKey

OPTIONS = re.compile(r'data-options="([^"]+)"')


def _password(client: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """The password step alone; returns where it sends the browser."""
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 302, response.text[:300]
    return response.headers["Location"]


def _new_user(app: Flask, role: Role = Role.DESK_OFFICER) -> str:
    with app.app_context():
        user = make_user(role=role, factor=False)
        db.session.commit()
        return user.email


def _actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _code_at(moment_offset_steps: int = 0, secret: str = TOTP_SECRET) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(clock.now() + timedelta(seconds=30 * moment_offset_steps))


def test_a_user_without_a_factor_enrols_an_app_before_any_other_page(app: Flask) -> None:
    email = _new_user(app)
    client = app.test_client()
    assert _password(client, email) == "/sign-in/factor"
    assert client.get("/sign-in/factor").headers["Location"] == "/sign-in/enrol"
    for path in ("/desk/", "/account/security", "/account/password", "/", "/desk/needs/"):
        assert client.get(path).headers["Location"] == "/sign-in/factor", path
    enrol = client.get("/sign-in/enrol")
    assert "authenticator app" in enrol.text and "security key" in enrol.text
    page = client.get("/account/security/app")
    assert page.status_code == 200
    secret = re.search(r'data-testid="totp-secret"><code>([A-Z2-7]+)</code>', page.text)
    assert secret, "the secret is shown as text beside the QR code"
    assert "<svg" in page.text and "<script>" not in page.text  # the QR is drawn server-side
    wrong = client.post(
        "/account/security/app", data={"code": "000000", "csrf_token": csrf_from(page.text)}
    )
    assert wrong.status_code == 400 and "That code is not right" in wrong.text
    done = client.post(
        "/account/security/app",
        data={
            "code": pyotp.TOTP(secret[1]).now(),
            "label": "Work phone",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/desk/").status_code == 200  # signed in fully now
    with app.app_context():
        stored = list(db.session.scalars(select(RecoveryCode.code_hash)))
        assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed, never in clear
        factor = db.session.scalars(select(UserFactor)).one()
        assert factor.kind is FactorKind.TOTP and factor.label == "Work phone"
    actions = _actions(app)
    assert "sign_in.password_accepted" in actions and "factor.enrolled" in actions
    assert actions.index("factor.enrolled") < actions.index("sign_in")


def test_a_code_is_accepted_once_and_refused_when_replayed(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    clock.freeze(clock.now())
    code = _code_at()
    first = app.test_client()
    _password(first, email)
    assert pass_factor(first, email, code).status_code == 302
    assert first.get("/desk/").status_code == 200
    second = app.test_client()
    _password(second, email)
    replayed = pass_factor(second, email, code)
    assert replayed.status_code == 400
    assert "used already" in replayed.text
    assert second.get("/desk/").headers["Location"] == "/sign-in/factor"
    clock.freeze(clock.now() + timedelta(seconds=30))  # the app's next code is a new one
    assert pass_factor(second, email, _code_at()).status_code == 302
    assert "sign_in.factor_refused" in _actions(app)


def test_an_earlier_code_is_refused_once_a_later_one_was_taken(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    clock.freeze(clock.now())
    client = app.test_client()
    _password(client, email)
    assert pass_factor(client, email, _code_at(+1)).status_code == 302  # within the window
    other = app.test_client()
    _password(other, email)
    assert pass_factor(other, email, _code_at(0)).status_code == 400  # an older step


def test_a_recovery_code_works_once(app: Flask) -> None:
    with app.app_context():
        user = make_user()
        codes = factors.new_recovery_codes(SYSTEM, user.id)
        db.session.commit()
        email = user.email
    client = app.test_client()
    _password(client, email)
    assert pass_factor(client, email, codes[0].upper()).status_code == 302  # case is forgiven
    again = app.test_client()
    _password(again, email)
    assert pass_factor(again, email, codes[0]).status_code == 400
    assert "recovery_code" in str(_factor_details(app))


def _factor_details(app: Flask) -> list[object]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "sign_in.factor_accepted")
            )
        )


def test_a_partial_session_reaches_no_page_but_the_factor_step(app: Flask) -> None:
    email = user_with(app, Role.SUPERVISOR)[1]
    client = app.test_client()
    _password(client, email)
    open_early = {"/sign-in/factor", "/sign-in/enrol", "/account/security/app"}
    reached = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        path = re.sub(r"<[^>]+>", "1", re.sub(r"<any\((\w+)[^>]*>", r"\1", rule.rule))
        response = client.get(path)
        location = response.headers.get("Location", "")
        if rule.endpoint.startswith("api."):  # the API reads no session: a token or nothing
            assert response.status_code == 401, path
            continue
        public = rule.endpoint in {
            "api-docs.openapi_json",
            "api_reference",
            "auth.sign_in",
            "auth.forgot_password",
            "auth.invitation",
            "auth.reset_password",
            "health.healthz",
        }
        if response.status_code == 302 and location == "/sign-in/factor":
            continue
        if public or path in open_early or rule.endpoint == "auth.add_key":
            continue
        reached.append(f"{path} {response.status_code} {location}")
    assert reached == []
    # A session that owes its factor cannot add one of its own either: a password alone never
    # adds a factor.
    assert client.get("/account/security/app").headers["Location"] == "/sign-in/factor"
    assert client.get("/account/security/key").headers["Location"] == "/sign-in/factor"


def test_a_partial_session_lapses_after_ten_minutes(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    client = app.test_client()
    _password(client, email)
    clock.freeze(clock.now() + timedelta(minutes=11))
    assert client.get("/sign-in/factor").headers["Location"].startswith("/sign-in?next=")


def test_sign_in_rotates_the_session_at_the_factor(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    client = app.test_client()
    _password(client, email)
    partial = client.get_cookie("referral_desk_session")
    assert partial is not None
    pass_factor(client, email)
    thief = app.test_client()
    thief.set_cookie("referral_desk_session", partial.value)
    assert thief.get("/desk/").status_code == 302  # the partial session's cookie is dead
    with app.app_context():
        reasons = set(db.session.scalars(select(UserSession.end_reason)))
    assert "factor_passed" in reasons


def _options(page: str) -> str:
    match = OPTIONS.search(page)
    assert match, "the page carries no WebAuthn options"
    return html.unescape(match[1])


def _enrol_key(
    client: FlaskClient, key: SoftKey, origin: str | None = None, label: str = ""
) -> TestResponse:
    page = client.get("/account/security/key")
    return client.post(
        "/account/security/key",
        data={
            "credential": key.create(_options(page.text), origin=origin),
            "label": label,
            "csrf_token": csrf_from(page.text),
        },
    )


def test_a_security_key_enrols_and_signs_in(app: Flask) -> None:
    email = _new_user(app)
    key = SoftKey(origin="http://127.0.0.1:5000", rp_id="127.0.0.1")
    client = app.test_client()
    _password(client, email)
    done = _enrol_key(client, key, label="Blue key")
    assert done.status_code == 200 and "Your recovery codes" in done.text
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/account/security").text)})

    client = app.test_client()
    _password(client, email)
    step = client.get("/sign-in/factor")
    assert "Use my security key" in step.text
    response = client.post(
        "/sign-in/key",
        data={"credential": key.get(_options(step.text)), "csrf_token": csrf_from(step.text)},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/desk/").status_code == 200
    with app.app_context():
        stored = db.session.scalars(select(UserFactor)).one()
        assert stored.kind is FactorKind.WEBAUTHN and stored.sign_count == 1


def test_a_key_answer_for_another_site_or_an_old_challenge_is_refused(app: Flask) -> None:
    email = _new_user(app)
    key = SoftKey(origin="http://127.0.0.1:5000", rp_id="127.0.0.1")
    client = app.test_client()
    _password(client, email)
    phished = _enrol_key(client, key, origin="https://desk.evil.example")
    assert phished.status_code == 400 and "could not be registered" in phished.text
    _enrol_key(client, key)
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/account/security").text)})
    client = app.test_client()
    _password(client, email)
    old = _options(client.get("/sign-in/factor").text)
    step = client.get("/sign-in/factor")  # a new challenge replaces the old one
    refused = client.post(
        "/sign-in/key", data={"credential": key.get(old), "csrf_token": csrf_from(step.text)}
    )
    assert refused.headers["Location"] == "/sign-in/factor"
    assert client.get("/desk/").headers["Location"] == "/sign-in/factor"
    assert "sign_in.factor_refused" in _actions(app)


def test_a_key_form_posted_without_javascript_explains(app: Flask) -> None:
    email = _new_user(app)
    client = app.test_client()
    _password(client, email)
    page = client.get("/account/security/key")
    response = client.post(
        "/account/security/key", data={"credential": "", "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 400 and "needs JavaScript" in response.text


def test_add_a_second_method_and_remove_one_but_never_the_last(app: Flask) -> None:
    email = user_with(app, Role.AUDITOR)[1]
    client = app.test_client()
    token = sign_in(client, email)
    page = client.get("/account/security")
    assert "Your only one" in page.text and "Remove" not in page.text
    with app.app_context():
        only = db.session.scalars(select(UserFactor.id)).one()
    refused = client.post(f"/account/security/{only}/remove", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "add another before removing it" in client.get("/account/security").text
    add = client.get("/account/security/app")
    secret = re.search(r"<code>([A-Z2-7]+)</code>", add.text)[1]  # type: ignore[index]
    added = client.post(
        "/account/security/app",
        data={"code": pyotp.TOTP(secret).now(), "label": "Spare phone", "csrf_token": token},
    )
    assert added.headers["Location"] == "/account/security"
    assert "Spare phone" in client.get("/account/security").text
    client.post(f"/account/security/{only}/remove", data={"csrf_token": token})
    with app.app_context():
        left = list(db.session.scalars(select(UserFactor.label)))
    assert left == ["Spare phone"]
    actions = _actions(app)
    assert actions.count("factor.enrolled") == 2 and "factor.removed" in actions


def test_another_users_factor_cannot_be_removed(app: Flask) -> None:
    mine = user_with(app, Role.DESK_OFFICER)[1]
    user_with(app, Role.DESK_OFFICER)
    client = app.test_client()
    token = sign_in(client, mine)
    with app.app_context():
        theirs = db.session.scalars(
            select(UserFactor.id).join(User).where(User.email != mine)
        ).one()
    client.post(f"/account/security/{theirs}/remove", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(UserFactor, theirs) is not None


def test_new_recovery_codes_replace_the_old(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    client = app.test_client()
    token = sign_in(client, email)
    page = client.post("/account/security/recovery-codes", data={"csrf_token": token})
    assert page.status_code == 200
    assert len(re.findall(r"<li><code>", page.text)) == 10
    assert "10 unused recovery codes" in client.get("/account/security").text


def test_an_administrators_reset_ends_sessions_and_makes_them_enrol_again(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    admin_email = user_with(app, Role.ADMINISTRATOR)[1]
    victim = app.test_client()
    sign_in(victim, email)
    assert victim.get("/desk/").status_code == 200
    boss = app.test_client()
    token = sign_in(boss, admin_email)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
    edit = boss.get(f"/admin/users/{user_id}/edit")
    assert "Reset second factors" in edit.text
    response = boss.post(f"/admin/users/{user_id}/reset-factors", data={"csrf_token": token})
    assert response.status_code == 302
    assert victim.get("/desk/").status_code == 302  # signed out everywhere
    with app.app_context():
        assert not db.session.scalar(
            select(func.count(UserFactor.id)).where(UserFactor.user_id == user_id)
        )
    again = app.test_client()
    assert _password(again, email) == "/sign-in/factor"
    assert again.get("/sign-in/factor").headers["Location"] == "/sign-in/enrol"
    assert "factor.reset" in _actions(app)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_meets_the_factor_step(app: Flask, role: Role) -> None:
    with app.app_context():
        agency = make_agency(kind=AgencyKind.SCHOOL) if role is Role.PARTNER else None
        email = make_user(role=role, agency=agency).email
        db.session.commit()
    client = app.test_client()
    assert _password(client, email) == "/sign-in/factor"
    assert client.get("/").headers["Location"] == "/sign-in/factor"
    assert pass_factor(client, email).status_code == 302
    landing = client.get("/")
    assert landing.status_code == 302 and landing.headers["Location"] != "/sign-in/factor"
    assert client.get(landing.headers["Location"]).status_code == 200
