"""Deny by default: every route declares its permission, and undeclared ones are closed."""

from __future__ import annotations

import pytest
from flask import Flask

from config import Settings
from referrals import create_app
from referrals.models.api_client import ApiScope
from referrals.models.user import Role
from referrals.security.access import (
    ATTRIBUTE,
    BEARER,
    BEFORE_FACTOR,
    BUILTIN_PUBLIC_ENDPOINTS,
    PUBLIC,
    SCOPE,
)
from referrals.security.permissions import Permission, role_has
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    folder = tmp_path_factory.mktemp("routes")
    settings: Settings = make_settings(f"sqlite:///{folder / 'unused.db'}", folder)
    return create_app(settings)


def test_every_route_declares_a_permission(bare_app: Flask) -> None:
    undeclared = []
    for rule in bare_app.url_map.iter_rules():
        if rule.endpoint in BUILTIN_PUBLIC_ENDPOINTS:
            continue
        view = bare_app.view_functions[rule.endpoint]
        declared = getattr(view, ATTRIBUTE, None)
        if declared == BEARER:  # the API: a bearer token holding the view's scope
            if not isinstance(getattr(view, SCOPE, None), ApiScope):
                undeclared.append(f"{rule.rule} -> {rule.endpoint} (no scope)")
        elif declared != PUBLIC and not isinstance(declared, Permission):
            undeclared.append(f"{rule.rule} -> {rule.endpoint}")
    assert undeclared == [], f"routes with no declared permission: {undeclared}"


def test_only_signing_in_and_health_are_public(bare_app: Flask) -> None:
    public = sorted(
        rule.endpoint
        for rule in bare_app.url_map.iter_rules()
        if getattr(bare_app.view_functions[rule.endpoint], ATTRIBUTE, None) == PUBLIC
    )
    assert public == [
        "api-docs.openapi_json",  # the API's description and its reference page: no data
        "api_reference",
        "auth.forgot_password",
        "auth.invitation",
        "auth.reset_password",
        "auth.sign_in",
        "health.healthz",
    ]


def test_only_the_second_factor_step_is_open_before_the_factor(bare_app: Flask) -> None:
    open_early = sorted(
        rule.endpoint
        for rule in bare_app.url_map.iter_rules()
        if getattr(bare_app.view_functions[rule.endpoint], BEFORE_FACTOR, False)
    )
    assert open_early == [
        "auth.add_app",
        "auth.add_key",
        "auth.enrol",
        "auth.factor",
        "auth.key",
        "auth.sign_out",
    ]


def test_an_undeclared_route_is_refused(bare_app: Flask) -> None:
    app = create_app(bare_app.extensions["referrals"].settings)

    @app.route("/forgotten")
    def forgotten() -> str:
        return "should never be served"

    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert b"should never be served" not in response.data


@pytest.mark.parametrize("role", list(Role))
def test_partner_holds_no_desk_permission(role: Role) -> None:
    desk = {
        Permission.DESK_QUEUE,
        Permission.LOG_INCIDENT,
        Permission.VIEW_INCIDENT,
        Permission.REVEAL_IDENTITY,
    }
    granted = {p for p in Permission if role_has(role, p)}
    if role in (Role.PARTNER, Role.ADMINISTRATOR, Role.AUDITOR):
        assert granted.isdisjoint(desk)
    else:
        assert desk <= granted


def test_unknown_role_has_no_permission() -> None:
    assert not any(role_has("chief_constable", p) for p in Permission)
    assert not any(role_has(None, p) for p in Permission)
