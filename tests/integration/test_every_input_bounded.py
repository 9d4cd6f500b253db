"""No 500 for any input, across every route in ``app.url_map`` (web/*.py):
each query parameter the views read, and each form field any page shows, is sent huge,
negative, non-numeric, oversize and with a NUL byte, as each role and signed out, on both
engines. Path ids out of range are not found. A missing page and a wrong method render the
error page for every role."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from wtforms import Field

from referrals.models.user import Role
from tests.route_walk import HUGE_ID, client_as, paths

WEB = Path(__file__).resolve().parents[2] / "referrals" / "web"
READS = re.compile(r'(?:request\.args\.get|int_arg|enum_arg|_text_arg|_date_arg)\(\s*"(\w+)"')
FIELD = re.compile(r'name="([^"]+)"')
BAD = [
    "99999999999999999999",
    "-1",
    "0",
    "2147483648",
    "not-a-number",
    "9" * 400,
    "x" * 3000,
    "a\x00b",
]
SKIP_POST = {"auth.sign_out"}  # takes no input; it would only end the session being tested


def _form_fields(app: Flask) -> set[str]:
    """Every field name of every form class, as the page would post it (lists at entry 0)."""
    import referrals.web  # noqa: F401 - the forms are defined with their blueprints

    def subclasses(cls: type) -> Iterator[type]:
        subs: list[type] = cls.__subclasses__()
        for sub in subs:
            yield sub
            yield from subclasses(sub)

    def names(fields: Iterable[Field]) -> Iterator[str]:
        for field in fields:
            inner = getattr(field, "entries", None) or ([field] if hasattr(field, "form") else None)
            if inner is None:
                yield field.name
                continue
            for entry in inner:
                yield from names(getattr(entry, "form", entry))

    found: set[str] = set()
    with app.test_request_context():
        for form_class in subclasses(FlaskForm):
            try:
                form = form_class(meta={"csrf": False})
            except TypeError:
                continue
            found |= set(names(form))
    return found


def _query_names() -> list[str]:
    names = {"page", "next"}
    for source in WEB.glob("*.py"):
        names |= set(READS.findall(source.read_text()))
    return sorted(names)


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "signed_out")
def test_no_input_anywhere_gives_a_server_error(
    app: Flask, world: dict[str, int], role: Role | None
) -> None:
    client = client_as(app, role, world)
    app.config["WTF_CSRF_ENABLED"] = False  # the CSRF check is tested on its own; here, the input
    queries = _query_names()
    failures: list[str] = []
    fields: set[str] = set()

    addresses = itertools.count(1)

    def check(method: str, path: str, **kwargs: object) -> None:
        # Each request from its own address, so that throttling (a 429) hides no input's answer.
        n = next(addresses)
        remote = {"REMOTE_ADDR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
        response = client.open(path, method=method, environ_base=remote, **kwargs)  # type: ignore[arg-type]
        if path == "/healthz" and response.status_code == 503:
            return  # its answer while no scheduler has beaten: meant, and tested on its own
        if response.status_code >= 500 or "there is a problem with the desk" in response.text:
            failures.append(f"{method} {path} {str(kwargs)[:120]} -> {response.status_code}")
        elif method == "GET":
            fields.update(FIELD.findall(response.text))

    routes = list(paths(app, world))
    for _endpoint, path, methods in routes:
        if "GET" in methods:
            check("GET", path)
            for value in BAD:
                check("GET", path, query_string={name: value for name in queries})
    for _endpoint, path, methods in paths(app, world, huge=True):
        if "GET" in methods:
            check("GET", path)
    fields |= _form_fields(app)
    fields.discard("csrf_token")
    for endpoint, path, methods in routes:
        if "POST" not in methods or endpoint in SKIP_POST:
            continue
        for value in BAD:
            check("POST", path, data={name: value for name in fields})
    assert len(fields) > 40, sorted(fields)  # the forms were really reached
    assert failures == []


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "signed_out")
def test_error_pages_render_for_every_role(
    app: Flask, world: dict[str, int], role: Role | None
) -> None:
    client = client_as(app, role, world)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    wrong = client.put("/sign-in")
    assert wrong.status_code == 405 and "That action is not allowed here" in wrong.text
    get_of_post = client.get("/sign-out")
    assert get_of_post.status_code == 405 and "<header" in get_of_post.text
    too_big = client.get(f"/desk/incidents/{HUGE_ID}")
    assert too_big.status_code in (302, 403, 404)
