"""Form helpers shared by every blueprint."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any, TypeVar

from flask import abort, flash, redirect
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import Field, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.form import BaseForm

from referrals.clock import LONDON
from referrals.services.errors import DomainError, InvalidInput, NotFound


def _legend_from_label(params: dict[str, Any], field: Field) -> dict[str, Any]:
    legend = params.setdefault("fieldset", {}).setdefault("legend", {})
    if not legend.get("text") and not legend.get("html"):
        legend["text"] = field.label.text
    return params


_RENDERED: dict[str, Markup] = {}
_RENDERED_MAX = 4096


class RenderedOnce:
    """A Design System field holding nothing typed renders to the same HTML every time, so it is
    rendered once per process: the intake form's thirty-odd empty fields cost a Jinja macro tree
    each (most of the form's server time). Only params without a typed value or an error are
    kept (choices picked from a fixed list are not typing), so no personal data stays in memory.
    """

    template: str
    typed_items = False  # whether the items hold typing (day, month, year), not fixed choices

    def render(self, params: dict[str, Any]) -> Markup:
        if not self._blank(params):
            return super().render(params)  # type: ignore[misc, no-any-return]
        key = self.template + json.dumps(params, sort_keys=True, default=str)
        found = _RENDERED.get(key)
        if found is None:
            if len(_RENDERED) >= _RENDERED_MAX:
                _RENDERED.clear()
            found = _RENDERED[key] = super().render(params)  # type: ignore[misc]
        return found

    def _blank(self, params: dict[str, Any]) -> bool:
        if params.get("value") or params.get("errorMessage"):
            return False
        items = params.get("items") or ()
        return not (self.typed_items and any(item.get("value") for item in items))


class TextInput(RenderedOnce, GovTextInput):
    pass


class TextArea(RenderedOnce, GovTextArea):
    pass


class Select(RenderedOnce, GovSelect):
    pass


class Checkbox(RenderedOnce, GovCheckboxInput):
    pass


class Radios(RenderedOnce, GovRadioInput):
    """Radios whose legend is the field's label even when a template styles the fieldset.

    The library sets the legend only when the template passes no ``fieldset`` at all, so styling
    the legend used to drop its text and leave bare "Yes / No" rows.
    """

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        return _legend_from_label(super().map_gov_params(field, **kwargs), field)


class DateInput(RenderedOnce, GovDateInput):
    """Day, month and year boxes under a legend that is the field's label (see :class:`Radios`)."""

    typed_items = True

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        return _legend_from_label(super().map_gov_params(field, **kwargs), field)


TIME_PATTERN = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


class DayMonthYearField(Field):
    """Day, month and year boxes. A partly filled or impossible date is an error, never None."""

    widget = DateInput()
    raw_data: list[str] | None
    data: date | None

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        super().process(formdata, data, extra_filters)
        if self.raw_data is not None and len(self.raw_data) != 3:
            self.raw_data = None

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist:
            return
        parts = [v.strip() for v in valuelist]
        if len(parts) != 3:
            raise ValueError(f"{self.label.text} must include a day, month and year")
        if not any(parts):
            return
        if not all(parts):
            missing = [n for n, v in zip(("day", "month", "year"), parts, strict=True) if not v]
            raise ValueError(f"{self.label.text} must include a {' and '.join(missing)}")
        lengths_ok = len(parts[0]) <= 2 and len(parts[1]) <= 2 and len(parts[2]) == 4
        if not all(p.isdigit() for p in parts) or not lengths_ok:
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2015")
        try:
            value = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2015") from exc
        if not 1900 <= value.year <= 2100:
            raise ValueError(f"{self.label.text} must be between 1900 and 2100")
        self.data = value

    def _value(self) -> str:
        return " ".join(self.raw_data) if self.raw_data else ""


E = TypeVar("E", bound=Enum)


def printable(form: BaseForm, field: Field) -> None:
    """A WTForms validator: no control characters (a NUL cannot even be stored)."""
    if any(ord(ch) < 32 for ch in str(field.data or "")):
        raise ValidationError(f"{field.label.text} must not contain control characters")


def enum_or_none(enum_cls: type[E], value: object) -> E | None:
    """The member whose value was posted or asked for, or None for anything else (the one
    place a form's or a query string's choice becomes an enum)."""
    for member in enum_cls:
        if member.value == value:
            return member
    return None


def options(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """Choices for radios and selects, as WTForms 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


def find_field(form: BaseForm, path: str) -> Field | None:
    """The field for a service error path such as ``children-0-date_of_birth``."""
    fields: Mapping[str, Field] = form._fields
    if path in fields:
        # A whole list ("children") or a group of fields has no single place on the page: the
        # caller shows it apart.
        grouped = any(hasattr(fields[path], name) for name in ("entries", "form"))
        return None if grouped else fields[path]
    for name, field in fields.items():
        if path.startswith(name + "-"):
            rest = path[len(name) + 1 :]
            entries = getattr(field, "entries", None)
            if entries is not None:  # a FieldList: "0-date_of_birth"
                index, _, sub = rest.partition("-")
                if index.isdigit() and int(index) < len(entries):
                    entry = entries[int(index)]
                    inner = getattr(entry, "form", None)
                    return find_field(inner, sub) if inner is not None and sub else entry
            inner_form = getattr(field, "form", None)
            if inner_form is not None:
                return find_field(inner_form, rest)
    return None


def attach_errors(
    form: FlaskForm, errors: Mapping[str, str], aliases: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Put each service error beside its field; return the ones with no field to sit beside."""
    unplaced: dict[str, str] = {}
    for path, message in errors.items():
        field = find_field(form, (aliases or {}).get(path, path))
        if field is None:
            unplaced[path] = message
            continue
        field.errors = [*list(field.errors or []), message]
    return unplaced


def error_list(form: BaseForm, extra: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The GOV.UK error summary's items, in the order the fields appear on the page. A problem
    with one of several people names them ("Child 2: enter the last name")."""
    items: list[dict[str, str]] = []

    def walk(f: BaseForm, person: str = "") -> None:
        for field in f:
            inner = getattr(field, "form", None)
            entries = getattr(field, "entries", None)
            if entries is not None:
                singular = PEOPLE.get(field.name, "")
                for i, entry in enumerate(entries, start=1):
                    label = f"{singular} {i}" if singular else ""
                    if getattr(entry, "form", None) is not None:
                        walk(entry.form, label)
                    elif entry.errors:
                        items.append(
                            {"text": _naming(label, entry.errors[0]), "href": f"#{entry.id}"}
                        )
            elif inner is not None:
                walk(inner, person)
            elif field.errors and isinstance(field.errors, list | tuple):
                target = field.id
                if field.type == "DayMonthYearField":
                    target = f"{field.name}-day"
                items.append({"text": _naming(person, str(field.errors[0])), "href": f"#{target}"})

    walk(form)
    for path, message in (extra or {}).items():
        items.append({"text": message, "href": f"#{path}"})
    return items


# A form's lists of people, and how one of them is named in a message.
PEOPLE = {"children": "Child", "adults": "Adult"}


def _naming(person: str, message: str) -> str:
    if not person or message.startswith(person + ":"):
        return message
    return f"{person}: {message[0].lower()}{message[1:]}"


def perform(
    action: Callable[[], str],
    *,
    form: FlaskForm | None,
    show_again: Callable[[], tuple[str, int]],
    back: str,
) -> Response | tuple[str, int]:
    """Run one action a person asked for: on success say what happened and go ``back``; a
    field problem shows the page again with the form as typed (``show_again``); a refusal says
    why, having changed nothing; a record the person may not see is a 404."""
    try:
        flash(action())
    except NotFound:
        abort(404)
    except InvalidInput as invalid:
        if form is None:
            flash(str(invalid), "refused")
        else:
            attach_errors(form, invalid.errors)
            return show_again()
    except DomainError as refused:
        flash(str(refused), "refused")
    return redirect(back)


def london_moment(
    day: date | None, time_text: str | None, label: str
) -> tuple[datetime | None, str]:
    """Combine a London date and time into UTC; the error says what is wrong, if anything."""
    text = (time_text or "").strip()
    if day is None and not text:
        return None, ""
    if not text:
        return None, f"Enter the time of {label}"
    match = TIME_PATTERN.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None, f"Enter the time of {label} on the 24-hour clock, like 21:30"
    if day is None:
        return None, ""
    naive = datetime.combine(day, time(int(match[1]), int(match[2])))
    local = naive.replace(tzinfo=LONDON)
    if local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != naive:
        return None, f"{text} did not exist on that day in London: the clocks went forward"
    return local.astimezone(UTC), ""
