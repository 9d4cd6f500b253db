"""Throttling guesses (services/throttle.py): per account and per address, kept
in the database, never a global lockout, answered 429 with Retry-After."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent
from referrals.models.user import Role
from referrals.security import passwords
from referrals.services import throttle
from tests.factories import PASSWORD, csrf_from, pass_factor, user_with


def _try(client: FlaskClient, email: str, password: str, address: str = "192.0.2.1") -> int:
    page = client.get("/sign-in", environ_base={"REMOTE_ADDR": address})
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def test_ten_wrong_passwords_stop_the_right_one_for_five_minutes(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    other = user_with(app, Role.DESK_OFFICER)[1]
    clock.freeze(clock.now())
    client = app.test_client()
    assert [_try(client, email, f"wrong-guess-{i:04d}") for i in range(10)] == [400] * 10
    page = client.get("/sign-in")
    stopped = client.post(
        "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    )
    assert stopped.status_code == 429
    assert 0 < int(stopped.headers["Retry-After"]) <= 300
    assert "Too many attempts" in stopped.text and "Wait 5 minutes" in stopped.text
    # Never a global lockout: another account, from the same address, signs in.
    assert _try(app.test_client(), other, PASSWORD) == 302
    clock.freeze(clock.now() + timedelta(minutes=5, seconds=1))
    assert _try(app.test_client(), email, PASSWORD) == 302
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions.count("sign_in.refused") == 10 and actions.count("sign_in.throttled") == 1


def test_unknown_addresses_are_counted_the_same_way(app: Flask) -> None:
    client = app.test_client()
    codes = [_try(client, "nobody@desk.example", f"guess-number-{i:04d}") for i in range(11)]
    assert codes == [400] * 10 + [429]


def test_one_address_guessing_many_accounts_is_stopped(app: Flask) -> None:
    victim = user_with(app, Role.AUDITOR)[1]
    client = app.test_client()
    codes = [
        _try(client, f"person{i}@desk.example", "a-wrong-password", address="198.51.100.7")
        for i in range(30)
    ]
    assert codes == [400] * 30
    assert _try(client, victim, PASSWORD, address="198.51.100.7") == 429
    assert _try(app.test_client(), victim, PASSWORD, address="198.51.100.8") == 302


def test_the_counts_are_shared_by_every_worker(app: Flask) -> None:
    """Two app instances (as two gunicorn workers would be) see the same failures."""
    from referrals import create_app

    email = user_with(app, Role.DESK_OFFICER)[1]
    second = create_app(app.extensions["referrals"].settings)
    for i in range(10):
        worker = app if i % 2 else second
        assert _try(worker.test_client(), email, f"wrong-guess-{i:04d}") == 400
    assert _try(second.test_client(), email, PASSWORD) == 429
    assert _try(app.test_client(), email, PASSWORD) == 429
    with second.app_context():
        db.engine.dispose()


def test_second_factor_guesses_are_throttled(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    client = app.test_client()
    assert _try(client, email, PASSWORD) == 302
    codes = [pass_factor(client, email, f"{i:06d}").status_code for i in range(10)]
    assert codes == [400] * 10
    stopped = pass_factor(client, email)  # even a right code now waits
    assert stopped.status_code == 429 and int(stopped.headers["Retry-After"]) <= 300


def test_an_unknown_address_costs_one_password_check_too(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    checks: list[str] = []
    real = passwords._hasher

    class Counting:
        def verify(self, hashed: str, password: str) -> bool:
            checks.append(hashed[:9])
            return bool(real.verify(hashed, password))

    monkeypatch.setattr(passwords, "_hasher", Counting())
    client = app.test_client()
    _try(client, email, "a-wrong-password")
    _try(client, "nobody@desk.example", "a-wrong-password")
    assert checks == ["$argon2id", "$argon2id"]  # one argon2 verification each


def test_the_limit_is_checked_against_the_window() -> None:
    refusal = throttle.Throttled(61)
    assert refusal.retry_after == 61 and "Wait 2 minutes" in str(refusal)
    assert "Wait 1 minute " in str(throttle.Throttled(5))


def test_a_burst_of_parallel_guesses_gets_no_more_than_the_limit(app: Flask) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]

    def guess(i: int) -> int:
        return _try(app.test_client(), email, f"parallel-guess-{i:04d}", f"192.0.2.{i + 10}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(guess, range(30)))
    assert sorted(answers) == [400] * 10 + [429] * 20
