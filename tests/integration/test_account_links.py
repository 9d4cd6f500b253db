"""Invitations and password resets (services/account_links.py): single-use, expiring links by
e-mail through the outbox; nobody types another person's password."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent
from referrals.models.outbox import OutboxMessage
from referrals.models.user import Role, User
from referrals.security import passwords
from referrals.services import outbox
from tests.factories import PASSWORD, csrf_from, sign_in, user_with

LINK = re.compile(r"http://127\.0\.0\.1:5000(/(?:invitations|reset-password)/[\w-]+)")
NEW_PASSWORD = "orange-kettle-marble-quietly"


def _mail(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def _link(message: OutboxMessage) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match[1]


def _actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _invite(app: Flask, email: str = "new.person@desk.example") -> str:
    admin_email = user_with(app, Role.ADMINISTRATOR)[1]
    client = app.test_client()
    token = sign_in(client, admin_email)
    form = client.get("/admin/users/new")
    assert 'type="password"' not in form.text  # nobody types another person's password
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "email": email,
            "display_name": "Synthetic Newcomer",
            "role": "desk_officer",
            "agency_id": "",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert "Invitation sent" in client.get(response.headers["Location"]).text
    (message,) = [m for m in _mail(app) if m.to_address == email]
    assert message.template == "invitation"
    return _link(message)


def _set_password(client: FlaskClient, path: str, password: str = NEW_PASSWORD) -> object:
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    return client.post(
        path, data={"password": password, "confirm": password, "csrf_token": csrf_from(page.text)}
    )


def test_an_invited_user_sets_a_password_then_enrols(app: Flask) -> None:
    path = _invite(app)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "new.person@desk.example")).one()
        assert user.password_hash == passwords.NO_PASSWORD
        assert not passwords.verify_password(user.password_hash, "")
    client = app.test_client()
    page = client.get(path)
    assert "Set your password" in page.text
    mismatch = client.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "confirm": "something-else-entirely",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert mismatch.status_code == 400 and "not the same" in mismatch.text
    weak = client.post(
        path,
        data={
            "password": "password1234",
            "confirm": "password1234",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert weak.status_code == 400 and "too common" in weak.text
    done = _set_password(client, path)
    assert done.headers["Location"] == "/sign-in/factor"  # type: ignore[attr-defined]
    assert client.get("/sign-in/factor").headers["Location"] == "/sign-in/enrol"
    assert client.get("/desk/").headers["Location"] == "/sign-in/factor"
    # The link worked once.
    assert app.test_client().get(path).status_code == 410
    assert "invitation.accepted" in _actions(app)


def test_an_expired_invitation_says_what_to_do(app: Flask) -> None:
    path = _invite(app)
    clock.freeze(clock.now() + timedelta(days=7, minutes=1))
    page = app.test_client().get(path)
    assert page.status_code == 410
    assert "expired or has been used" in page.text and "new invitation" in page.text


def test_a_new_invitation_replaces_the_old_link(app: Flask) -> None:
    first = _invite(app)
    admin_email = user_with(app, Role.ADMINISTRATOR)[1]
    client = app.test_client()
    token = sign_in(client, admin_email)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "new.person@desk.example"))
    edit = client.get(f"/admin/users/{user_id}/edit")
    assert "Not set yet" in edit.text
    client.post(f"/admin/users/{user_id}/invitation", data={"csrf_token": token})
    second = _link(_mail(app)[-1])
    assert second != first
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200


def test_a_wrong_or_oversized_token_is_refused_plainly(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/invitations/not-a-real-token").status_code == 410
    assert client.get("/reset-password/" + "x" * 5000).status_code == 404


def test_forgotten_password_gives_one_answer_and_sends_only_to_a_real_account(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    client = app.test_client()
    answers = []
    for address in (email, "nobody@desk.example"):
        page = client.get("/forgot-password")
        response = client.post(
            "/forgot-password", data={"email": address, "csrf_token": csrf_from(page.text)}
        )
        assert response.status_code == 200
        answers.append(response.text.replace(address, "ADDRESS"))
    assert answers[0] == answers[1]
    sent = _mail(app)
    assert [m.to_address for m in sent] == [email]
    assert sent[0].template == "password_reset" and "works once" in sent[0].body
    assert _actions(app).count("password.reset_requested") == 2


def test_a_reset_link_changes_the_password_and_ends_every_session(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    signed_in = app.test_client()
    sign_in(signed_in, email)
    client = app.test_client()
    page = client.get("/forgot-password")
    client.post("/forgot-password", data={"email": email, "csrf_token": csrf_from(page.text)})
    path = _link(_mail(app)[-1])
    done = _set_password(client, path)
    assert done.headers["Location"] == "/sign-in"  # type: ignore[attr-defined]
    assert signed_in.get("/desk/").status_code == 302  # the old session ended
    sign_in(app.test_client(), email, NEW_PASSWORD)  # and the factor is still asked for
    assert app.test_client().get(path).status_code == 410
    clock.freeze(clock.now() + timedelta(hours=1, minutes=1))
    page = client.get("/forgot-password")
    client.post("/forgot-password", data={"email": email, "csrf_token": csrf_from(page.text)})
    late = _link(_mail(app)[-1])
    clock.freeze(clock.now() + timedelta(hours=1, minutes=1))
    assert app.test_client().get(late).status_code == 410  # an hour, no more
    assert "password.reset" in _actions(app)


def test_reset_requests_are_throttled_per_address_and_per_account(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    client = app.test_client()

    def ask(address: str, remote: str = "203.0.113.9") -> int:
        page = client.get("/forgot-password")
        return client.post(
            "/forgot-password",
            data={"email": address, "csrf_token": csrf_from(page.text)},
            environ_base={"REMOTE_ADDR": remote},
        ).status_code

    assert [ask(email) for _ in range(5)] == [200] * 5
    stopped = client.get("/forgot-password")
    response = client.post(
        "/forgot-password",
        data={"email": email, "csrf_token": csrf_from(stopped.text)},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 429 and int(response.headers["Retry-After"]) <= 3600
    # From elsewhere the page still answers the same, but one inbox gets at most 3 links an hour.
    assert ask(email, "203.0.113.10") == 200
    assert len([m for m in _mail(app) if m.to_address == email]) == 3


def test_a_sent_link_is_not_kept_in_the_outbox(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    client = app.test_client()
    page = client.get("/forgot-password")
    client.post("/forgot-password", data={"email": email, "csrf_token": csrf_from(page.text)})
    (message,) = _mail(app)
    with app.app_context():
        now = clock.now()
        claimed = outbox.claim("worker-1", now, timedelta(minutes=5))
        assert claimed == [message.id]
        outbox.mark_sent(message.id, "worker-1", now)
        db.session.commit()
    (sent,) = _mail(app)
    assert "/reset-password/" not in sent.body and sent.body == outbox.SCRUBBED


def test_a_password_cannot_be_set_for_another_user_by_an_administrator(app: Flask) -> None:
    admin_email = user_with(app, Role.ADMINISTRATOR)[1]
    target_id, target_email = user_with(app, Role.DESK_OFFICER)
    client = app.test_client()
    token = sign_in(client, admin_email)
    client.post(
        f"/admin/users/{target_id}/edit",
        data={
            "csrf_token": token,
            "email": target_email,
            "display_name": "Synthetic Person",
            "role": "desk_officer",
            "agency_id": "",
            "active": "y",
            "password": "an-admin-chosen-password",
        },
    )
    with app.app_context():
        user = db.session.get(User, target_id)
        assert user is not None
        assert passwords.verify_password(user.password_hash, PASSWORD)
        assert not passwords.verify_password(user.password_hash, "an-admin-chosen-password")
