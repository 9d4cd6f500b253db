"""The API's authentication: before every API view, the bearer token, its scope and its rate.
Only the ``Authorization`` header is read: a session cookie opens nothing here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, g, request
from werkzeug.wrappers import Response

from referrals import clock
from referrals.api.problems import problem
from referrals.models.audit import AuditKind
from referrals.runtime import runtime
from referrals.security.access import SCOPE
from referrals.services import api_clients, audit, throttle
from referrals.services.actors import Actor

BAD_TOKEN_PER_ADDRESS = throttle.Limit("api_token", 30, timedelta(minutes=5))


def authenticate() -> Response | None:
    """Before every API view: the bearer token, its scope, and its rate."""
    now = clock.now()
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    found = api_clients.authenticate(given.strip(), now) if scheme.lower() == "bearer" else None
    g.commit_despite_error = True  # refusals and throttling are recorded
    if found is None:
        address = request.remote_addr or "unknown"
        throttle.check(BAD_TOKEN_PER_ADDRESS, address, now)
        throttle.record(BAD_TOKEN_PER_ADDRESS, address, now)
        audit.record(
            Actor.system("api"),
            AuditKind.SECURITY,
            "api.token_refused",
            "address",
            address,
        )
        return problem(
            401,
            "Send a valid API token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="referral-desk"'},
        )
    view: Any = current_app.view_functions.get(request.endpoint or "")
    scope = getattr(view, SCOPE, None)
    if scope is None or not api_clients.has_scope(found, scope):
        return problem(403, f"This token does not hold the scope {scope}")
    limit = throttle.Limit("api", runtime().settings.api_calls_per_minute, timedelta(minutes=1))
    throttle.check(limit, f"client:{found.id}", now)
    throttle.record(limit, f"client:{found.id}", now)
    g.commit_despite_error = False
    g.api_client = found
    return None
