"""RFC 9457 problem details: one JSON shape for every 4xx and 5xx the API answers, including
the ones Flask raises itself (404, 405, 413) and the throttle's 429."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any

from flask import request
from werkzeug.wrappers import Response

API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"

# The services key a field's problem by its form name ("children-0-family_name"); the API
# names it by JSON pointer into the body it was sent.
_RENAMED = {
    "risk_actuarial": "/risk/actuarial",
    "risk_judgement": "/risk/judgement",
    "risk_rationale": "/risk/rationale",
    "notification": "",
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def pointer(key: str) -> str:
    if key in _RENAMED:
        return _RENAMED[key]
    return "/" + "/".join(key.split("-"))


def from_service(errors: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"path": pointer(k), "message": m} for k, m in errors.items()]


def from_schema(messages: Any) -> list[dict[str, str]]:
    """marshmallow's nested messages as a flat list of (JSON pointer, message)."""
    return list(_walk(messages, ""))


def _walk(messages: Any, path: str) -> Iterator[dict[str, str]]:
    if isinstance(messages, Mapping):
        for key, inner in messages.items():
            yield from _walk(inner, f"{path}/{key}")
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield {"path": path, "message": message}
    elif isinstance(messages, list):
        for inner in messages:
            yield from _walk(inner, path)
    else:
        yield {"path": path, "message": str(messages)}


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
