"""Deny by default: every view declares what it needs; a global guard enforces it.

``@requires(Permission.X)`` and ``@public`` mark the view function; :func:`guard` runs before
every request and refuses any endpoint that carries no mark. A test walks ``app.url_map`` and
fails on any route whose view is unmarked, so a forgotten decorator cannot ship. A session that
has shown the password but not yet the second factor reaches only views also marked
``@before_factor``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from referrals.security.permissions import Permission, role_has

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC: Final = "public"
BEARER: Final = "bearer"  # the API: a bearer token, checked by the API's own authentication
SCOPE: Final = "required_api_scope"
ATTRIBUTE: Final = "required_permission"
BEFORE_FACTOR: Final = "open_before_second_factor"
# Endpoints Flask itself registers, whose view functions we cannot mark.
BUILTIN_PUBLIC_ENDPOINTS: Final = frozenset({"static"})


def requires(permission: Permission) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, permission)
        return view

    return mark


def public(view: F) -> F:
    setattr(view, ATTRIBUTE, PUBLIC)
    return view


def token(scope: StrEnum) -> Callable[[F], F]:
    """Mark an API view: open to a bearer token holding ``scope`` (never to a session); see
    :func:`referrals.api.authenticate`."""

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, BEARER)
        setattr(view, SCOPE, scope)
        return view

    return mark


def before_factor(view: F) -> F:
    """Mark a view that a partial session (password right, second factor still to come) may
    reach: the second-factor step, enrolment and sign-out. Every other view waits for both."""
    setattr(view, BEFORE_FACTOR, True)
    return view


def declared_permission(endpoint: str) -> Permission | str | None:
    if endpoint in BUILTIN_PUBLIC_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ATTRIBUTE, None)


def guard() -> Response | None:
    """``before_request``: let through only what the endpoint declares."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: Flask answers 404 / 405 itself
    needed = declared_permission(endpoint)
    if needed is None:
        abort(403)  # an undeclared route is closed, never open
    if needed in (PUBLIC, BEARER):
        return None  # BEARER: the API authenticates the bearer token itself
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=safe_next(request.full_path)))
    if not current_user.complete and not getattr(
        current_app.view_functions[endpoint], BEFORE_FACTOR, False
    ):
        return redirect(url_for("auth.factor"))
    if not isinstance(needed, Permission) or not role_has(current_user.role, needed):
        abort(403)
    return None


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to after sign-in, or None. Refuses other hosts and schemes."""
    if not target:
        return None
    target = target.rstrip("?")
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
