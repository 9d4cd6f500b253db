"""Security headers on every response: a strict Content Security Policy, no framing, no
sniffing, no referrer, HSTS, and no caching of pages that show records."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from werkzeug.wrappers import Response

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def apply(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static" and (
        current_user.is_authenticated or response.mimetype == "text/html"
    ):
        response.headers["Cache-Control"] = "no-store"
    return response
