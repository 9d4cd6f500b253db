"""Sign-in, sign-out and server-side session invalidation: a signed-out or ended session is
refused on the server, whatever the cookie says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent
from referrals.models.user import Role, User
from referrals.services import admin
from tests.factories import PASSWORD, SYSTEM, csrf_from, pass_factor, sign_in, user_with


def _desk_user(app: Flask) -> str:
    return user_with(app, Role.DESK_OFFICER)[1]


def test_anonymous_is_sent_to_sign_in_with_a_safe_next(app: Flask) -> None:
    response = app.test_client().get("/desk/?borough=E09000022")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    assert "borough" in response.headers["Location"]


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/desk/", "/desk/"),
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirect_is_only_ever_local(app: Flask, next_url: str, expected: str) -> None:
    email = _desk_user(app)
    client = app.test_client()
    page = client.get("/sign-in")
    response = client.post(
        f"/sign-in?next={next_url}",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/factor"  # no page before the factor
    assert client.get("/desk/").headers["Location"] == "/sign-in/factor"
    response = pass_factor(client, email)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_wrong_password_and_unknown_user_get_the_same_answer(app: Flask) -> None:
    email = _desk_user(app)
    client = app.test_client()
    token = csrf_from(client.get("/sign-in").text)
    wrong = client.post(
        "/sign-in",
        data={"email": email, "password": "not-the-password-at-all", "csrf_token": token},
    )
    unknown = client.post(
        "/sign-in",
        data={
            "email": "nobody@desk.example",
            "password": "not-the-password-at-all",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == unknown.status_code == 400
    assert "Enter a correct e-mail address and password" in wrong.text
    assert "Enter a correct e-mail address and password" in unknown.text
    with app.app_context():
        refused = db.session.query(AuditEvent).filter_by(action="sign_in.refused").count()
    assert refused == 2  # refused attempts are audited even though the answer is an error


def test_sign_in_form_without_csrf_token_is_refused(app: Flask) -> None:
    email = _desk_user(app)
    response = app.test_client().post("/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Nothing was saved" in response.text


def _capture_cookie(app: Flask) -> tuple[FlaskClient, str, str]:
    email = _desk_user(app)
    client = app.test_client()
    token = sign_in(client, email)
    cookie = client.get_cookie("referral_desk_session")
    assert cookie is not None
    return client, cookie.value, token


def _replay(app: Flask, cookie_value: str) -> int:
    thief = app.test_client()
    thief.set_cookie("referral_desk_session", cookie_value)
    return thief.get("/desk/").status_code


def test_cookie_captured_before_sign_out_does_not_work_after(app: Flask) -> None:
    client, cookie, token = _capture_cookie(app)
    assert _replay(app, cookie) == 200  # the copy works while the session is open
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert _replay(app, cookie) == 302  # ...and is worthless after sign-out


def test_cookie_does_not_survive_a_password_change(app: Flask) -> None:
    client, cookie, token = _capture_cookie(app)
    other = app.test_client()
    other.set_cookie("referral_desk_session", cookie)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-long-passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert _replay(app, cookie) == 302
    assert client.get("/desk/").status_code == 200


@pytest.mark.parametrize("change", ["disable", "role"])
def test_cookie_does_not_survive_disable_or_role_change(app: Flask, change: str) -> None:
    _, cookie, _ = _capture_cookie(app)
    with app.app_context():
        user = db.session.query(User).filter_by(role=Role.DESK_OFFICER).one()
        admin.update_user(
            SYSTEM,
            user,
            admin.UserInput(
                email=user.email,
                display_name=user.display_name,
                role=Role.SUPERVISOR if change == "role" else user.role,
                active=change != "disable",
            ),
        )
        db.session.commit()
    assert _replay(app, cookie) == 302


def test_idle_session_expires(app: Flask) -> None:
    _, cookie, _ = _capture_cookie(app)
    clock.freeze(clock.now() + timedelta(minutes=31))
    assert _replay(app, cookie) == 302


def test_password_change_refuses_a_weak_password_beside_the_field(app: Flask) -> None:
    client, _, token = _capture_cookie(app)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "short",
            "csrf_token": token,
        },
    )
    assert response.status_code == 400
    assert "at least 12 characters" in response.text
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "password1234",
            "csrf_token": token,
        },
    )
    assert "too common" in response.text


def test_security_headers_on_every_page(app: Flask) -> None:
    response = app.test_client().get("/sign-in")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.text  # no inline script anywhere in the layout
