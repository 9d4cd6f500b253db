"""A production desk behind plain HTTP says why nobody can sign in, and ``TRUSTED_PROXIES``
lets it see through a TLS-terminating proxy (referrals/__init__.py, ProxyFix)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from referrals import create_app
from referrals.extensions import db
from referrals.models.user import Role
from tests.conftest import make_settings
from tests.factories import PASSWORD, csrf_from, make_user


def _production(database_url: str, folder: Path, **extra: str) -> Flask:
    return create_app(make_settings(database_url, folder, REFERRALS_ENV="production", **extra))


def test_plain_http_is_explained_at_sign_in(database_url: str, tmp_path: Path) -> None:
    app = _production(database_url, tmp_path)
    client = app.test_client()
    page = client.get("/sign-in")
    assert 'data-testid="plain-http"' in page.text and "needs HTTPS" in page.text
    # The browser kept no cookie over HTTP, so the form cannot be checked: the page says why.
    posted = app.test_client().post("/sign-in", data={"email": "a@b.example", "password": "x"})
    assert posted.status_code == 400
    assert "must be reached over HTTPS" in posted.text and "TRUSTED_PROXIES" in posted.text
    with app.app_context():
        db.engine.dispose()


def test_a_trusted_proxy_carries_https_through(database_url: str, tmp_path: Path) -> None:
    app = _production(database_url, tmp_path, TRUSTED_PROXIES="1")
    client = app.test_client()
    page = client.get(
        "/sign-in",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.50"},
    )
    assert page.status_code == 200 and "plain-http" not in page.text
    cookie = page.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie
    untrusted = _production(database_url, tmp_path / "other").test_client()
    spoofed = untrusted.get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "plain-http" in spoofed.text  # with no trusted proxy, the header is not believed
    with app.app_context():
        db.engine.dispose()


def test_a_form_posted_over_https_without_a_referer_is_accepted(
    database_url: str, tmp_path: Path
) -> None:
    """Browsers send no Referer (the desk's Referrer-Policy is no-referrer): the CSRF token is
    what is checked, so signing in over HTTPS works."""
    app = _production(database_url, tmp_path, TRUSTED_PROXIES="1")
    with app.app_context():
        email = make_user(role=Role.DESK_OFFICER).email
        db.session.commit()
    client = app.test_client()
    https = {"X-Forwarded-Proto": "https"}
    page = client.get("/sign-in", headers=https)
    posted = client.post(
        "/sign-in",
        headers=https,
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert posted.status_code == 302 and posted.headers["Location"] == "/sign-in/factor"
    with app.app_context():
        db.engine.dispose()
