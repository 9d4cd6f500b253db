"""What a person (a page) or a client (the API's problem details) sees when a request fails.

Every handler rolls the request's work back, except where the refusal itself is audited.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from referrals.api.problems import from_schema, is_api_request, problem
from referrals.extensions import db
from referrals.runtime import runtime
from referrals.services import throttle

log = logging.getLogger(__name__)

PLAIN_HTTP = (
    "This address uses plain HTTP, so your browser will not keep the sign-in cookie and nothing "
    "can be submitted. Use the desk's https:// address. If HTTPS ends at a proxy or load "
    "balancer in front of the desk, its administrator sets TRUSTED_PROXIES to the number of "
    "proxies so that the desk can see the original request was secure."
)

PAGES = {
    400: (
        "Something in the request was not valid",
        "Go back, check what you entered and try again.",
    ),
    403: (
        "You do not have access to this page",
        "If you think you should, ask your administrator.",
    ),
    404: ("Page not found", "The page or record does not exist, or is not available to you."),
    405: (
        "That action is not allowed here",
        "Use the buttons on the page rather than the address bar.",
    ),
    413: ("The request was too large", "Send less at once and try again."),
}
"""The page for each HTTP error a person can meet: its title and what to do next."""


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(throttle.Throttled, throttled)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


def _page(title: str, body: str, code: int) -> tuple[str, int]:
    return render_template("errors/error.html", title=title, body=body), code


def csrf_error(error: CSRFError) -> tuple[str, int]:
    db.session.rollback()  # never on the API: its blueprint is exempt (bearer tokens)
    if runtime().settings.is_production and not request.is_secure:
        return _page("The desk must be reached over HTTPS", PLAIN_HTTP, 400)
    return _page(
        "Your form could not be checked",
        "The page had expired or came from elsewhere. Nothing was saved. "
        "Go back, reload the page and submit it again.",
        400,
    )


def throttled(error: throttle.Throttled) -> Response:
    g.commit_despite_error = True  # the refusal is audited
    retry = {"Retry-After": str(error.retry_after)}
    if is_api_request():
        return problem(429, str(error), headers=retry)
    page, code = _page("Too many attempts", str(error), 429)
    return Response(page, status=code, mimetype="text/html", headers=retry)


def http_error(error: HTTPException) -> tuple[str, int] | HTTPException | Response:
    code = error.code or 500
    if is_api_request():
        db.session.rollback()
        parsed = (getattr(error, "data", None) or {}).get("messages")
        errors = None
        if isinstance(parsed, dict):  # webargs: {"json": {...}} or {"query": {...}}
            errors = [e for where in parsed.values() for e in from_schema(where)]
        headers = {k: v for k, v in error.get_headers() if k in ("Allow", "Retry-After")}
        detail = "The input is not valid" if parsed else error.description
        return problem(code, detail, errors=errors, headers=headers)
    if code not in PAGES:
        return error
    db.session.rollback()
    return _page(*PAGES[code], code)


def unexpected(error: Exception) -> tuple[str, int] | Response:
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    if is_api_request():
        return problem(500, "Nothing was saved. Try again; if it happens again, tell us.")
    return _page(
        "Sorry, there is a problem with the desk",
        "Nothing was saved. Try again; if it happens again, tell your administrator.",
        500,
    )
