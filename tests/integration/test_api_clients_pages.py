"""Administrators' API clients pages (``referrals/web/api_clients.py``): a token shown once and
kept only as a hash, scopes bounded by the client's kind, revocation at once, and only
administrators reach them."""

from __future__ import annotations

import hashlib
import re

import pytest
from flask import Flask
from sqlalchemy import select

from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.api_client import ApiClient
from referrals.models.user import Role
from tests.factories import LAMBETH, csrf_from, front_doors, sign_in, user_with


def test_an_administrator_creates_sees_and_revokes_a_client(app: Flask) -> None:
    doors = front_doors(app, LAMBETH)
    admin = app.test_client()
    sign_in(admin, user_with(app, Role.ADMINISTRATOR)[1])
    form = admin.get("/admin/api-clients/new")
    token = csrf_from(form.text)
    wrong = admin.post(
        "/admin/api-clients/new",
        data={"csrf_token": token, "name": "", "kind": "police_intake", "scopes": "referrals:read"},
    )
    assert wrong.status_code == 400
    assert "Enter a name for the client" in wrong.text and "may hold only" in wrong.text
    made = admin.post(
        "/admin/api-clients/new",
        data={
            "csrf_token": token,
            "name": "Synthetic front door system",
            "kind": "partner",
            "agency": str(doors[f"csc-{LAMBETH}"]),
            "scopes": ["referrals:read", "referrals:write"],
            "expires": "90",
        },
    )
    assert made.status_code == 200
    shown = re.search(r'value="(rdk_[^"]+)"', made.text)
    assert shown is not None
    with app.app_context():
        client = db.session.scalars(select(ApiClient)).one()
        assert client.token_hash == hashlib.sha256(shown.group(1).encode()).hexdigest()
        assert shown.group(1) not in client.token_prefix + client.token_hash
    listed = admin.get("/admin/api-clients/")
    assert "Synthetic front door system" in listed.text and shown.group(1) not in listed.text
    bearer = {"Authorization": f"Bearer {shown.group(1)}"}
    assert app.test_client().get("/api/v1/referrals", headers=bearer).status_code == 200
    revoked = admin.post(
        f"/admin/api-clients/{client.id}/revoke", data={"csrf_token": token}, follow_redirects=True
    )
    assert "is revoked" in revoked.text
    assert app.test_client().get("/api/v1/referrals", headers=bearer).status_code == 401


@pytest.mark.parametrize("role", [Role.DESK_OFFICER, Role.SUPERVISOR, Role.PARTNER, Role.AUDITOR])
def test_only_administrators_reach_api_clients(app: Flask, role: Role) -> None:
    browser = app.test_client()
    kind = AgencyKind.CHILDRENS_SOCIAL_CARE if role is Role.PARTNER else None
    sign_in(browser, user_with(app, role, agency_kind=kind)[1])
    assert browser.get("/admin/api-clients/").status_code == 403
    assert browser.get("/admin/api-clients/new").status_code == 403
