"""What every view reads from the request the same way: who is acting, and bounded arguments
from the query string (a huge or malformed number is "not given", never a database error)."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from flask import abort, request
from flask_login import current_user
from flask_wtf.form import SUBMIT_METHODS

from referrals.services.actors import Actor
from referrals.web.forms import enum_or_none

E = TypeVar("E", bound=Enum)
MAX_ID = 2**31 - 1  # the largest id a database column holds on every engine
MAX_PAGE = 100_000  # a page number beyond any list the desk holds


def actor() -> Actor:
    """The signed-in user, as the services want them."""
    return Actor.of(current_user.user)


def bounded_int(text: str | None, maximum: int = MAX_ID) -> int | None:
    """A whole number from 1 to ``maximum`` written in the text, or None."""
    text = (text or "").strip()
    if not text.isdigit() or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


def int_arg(name: str, maximum: int = MAX_ID) -> int | None:
    return bounded_int(request.args.get(name), maximum)


def enum_arg(name: str, enum_cls: type[E]) -> E | None:
    return enum_or_none(enum_cls, request.args.get(name, ""))


def refuse_unstorable() -> None:
    """``before_request``: a NUL character in a query string, or in a form field's name, is
    refused with a 400 here, once, before any view: PostgreSQL cannot store one in text, and
    nobody types it. (A form's values are the form's to check, so that what was typed is shown
    again beside the error: see :func:`referrals.web.forms.printable`.)"""
    if request.query_string:
        for key, value in request.args.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    # Flask-WTF reads a form only on these methods: a GET's body is never read.
    if request.method in SUBMIT_METHODS and any("\x00" in key for key in request.form):
        abort(400)
