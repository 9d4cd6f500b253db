"""A production desk behind plain HTTP says why nobody can sign in, and ``TRUSTED_PROXIES``
lets it see through a TLS-terminating proxy (referrals/__init__.py, ProxyFix)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from referrals import create_app
from referrals.extensions import db
from tests.conftest import make_settings


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
