"""The JSON notification format that ``intake import`` reads (and the API will later).

A file holds ``{"notifications": [ ... ]}`` (or just the list). Each notification::

    {
      "id": "NOTIF-0001",                      # unique per sender: re-importing makes no copy
      "police_reference": "CAD1234/21NOV26",
      "occurred_at": "2026-11-20T22:15:00+00:00",  # ISO 8601 with an offset
      "received_at": "2026-11-21T07:02:00+00:00",
      "borough": "E09000022",                  # ONS code
      "location": "...", "summary": "...",
      "risk": {"actuarial": "medium", "judgement": "high", "rationale": "..."},
      "adults": [{"role": "victim", "given_name": "...", "family_name": "...",
                  "date_of_birth": "1990-01-02", "address": "...", "phone": "..."}],
      "children": [{"given_name": "...", "family_name": "...", "date_of_birth": "2015-03-27",
                    "address": "...", "borough": "E09000022", "lives_there": true,
                    "present": true, "present_where": "...", "spoken_to": false, "voice": "",
                    "school_urn": "900001", "home_educated": false,
                    "known_to_social_care": null}],
      "duplicate_reason": ""                   # only if this police reference was sent before
    }

Parsing finds type problems; every domain rule is applied by :mod:`referrals.services.intake`.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from referrals import clock
from referrals.models.incident import ADULT_ROLES, PersonRole, RiskGrade
from referrals.services.intake import AdultInput, ChildInput, IncidentInput

ROLES = {role.value for role in ADULT_ROLES}
"""The roles a notification may give an adult, as written in it."""


class _Reader:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def text(self, obj: dict[str, Any], key: str, path: str) -> str:
        value = obj.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            self.errors[path] = f"{key} must be text"
            return ""
        return value

    def boolean(self, obj: dict[str, Any], key: str, path: str) -> bool | None:
        value = obj.get(key)
        if value is None or isinstance(value, bool):
            return value
        self.errors[path] = f"{key} must be true, false or null"
        return None

    def moment(self, obj: dict[str, Any], key: str, path: str) -> datetime | None:
        text = self.text(obj, key, path)
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            self.errors[path] = (
                f"{key} must be an ISO 8601 date and time, like 2026-11-20T22:15:00Z"
            )
            return None
        if value.tzinfo is None:
            self.errors[path] = f"{key} must include a UTC offset, like +00:00 or Z"
            return None
        try:
            clock.to_london(value)  # the first and last days of the calendar have no London time
        except OverflowError:
            self.errors[path] = f"{key} is outside the dates the desk can record"
            return None
        return value

    def day(self, obj: dict[str, Any], key: str, path: str) -> date | None:
        text = self.text(obj, key, path)
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.errors[path] = f"{key} must be a date like 2015-03-27"
            return None

    def grade(self, obj: dict[str, Any], key: str, path: str) -> RiskGrade | None:
        text = self.text(obj, key, path)
        if not text:
            return None
        if text not in {g.value for g in RiskGrade}:
            self.errors[path] = f"{key} must be standard, medium or high"
            return None
        return RiskGrade(text)

    def items(self, obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = obj.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.errors[key] = f"{key} must be a list of objects"
            return []
        return value


def notification_key(obj: dict[str, Any]) -> str:
    ident = obj.get("id")
    base = ident if isinstance(ident, str) and ident else repr(sorted(obj.items()))
    return "import:" + hashlib.sha256(base.encode()).hexdigest()[:64]


def parse_notification(obj: Any) -> tuple[IncidentInput, dict[str, str]]:
    if not isinstance(obj, dict):
        return IncidentInput(submission_key="import:invalid"), {
            "notification": "each notification must be a JSON object"
        }
    r = _Reader()
    risk = obj.get("risk") or {}
    if not isinstance(risk, dict):
        r.errors["risk"] = "risk must be an object with actuarial, judgement and rationale"
        risk = {}
    adults = [_adult(r, a, f"adults-{i}") for i, a in enumerate(r.items(obj, "adults"))]
    children = [_child(r, c, f"children-{i}") for i, c in enumerate(r.items(obj, "children"))]
    data = IncidentInput(
        submission_key=notification_key(obj),
        police_reference=r.text(obj, "police_reference", "police_reference"),
        occurred_at=r.moment(obj, "occurred_at", "occurred_at"),
        received_at=r.moment(obj, "received_at", "received_at"),
        borough_code=r.text(obj, "borough", "borough"),
        location=r.text(obj, "location", "location"),
        summary=r.text(obj, "summary", "summary"),
        risk_actuarial=r.grade(risk, "actuarial", "risk_actuarial"),
        risk_judgement=r.grade(risk, "judgement", "risk_judgement"),
        risk_rationale=r.text(risk, "rationale", "risk_rationale"),
        adults=adults,
        children=children,
        source="import",
        duplicate_reason=r.text(obj, "duplicate_reason", "duplicate_reason"),
    )
    return data, r.errors


def _adult(r: _Reader, a: Any, p: str) -> AdultInput:
    role = r.text(a, "role", f"{p}-role")
    if role and role not in ROLES:
        r.errors[f"{p}-role"] = "role must be victim, suspect or other_adult"
    return AdultInput(
        role=PersonRole(role) if role in ROLES else None,
        given_name=r.text(a, "given_name", f"{p}-given_name"),
        family_name=r.text(a, "family_name", f"{p}-family_name"),
        date_of_birth=r.day(a, "date_of_birth", f"{p}-date_of_birth"),
        address=r.text(a, "address", f"{p}-address"),
        phone=r.text(a, "phone", f"{p}-phone"),
    )


def _child(r: _Reader, c: Any, p: str) -> ChildInput:
    return ChildInput(
        given_name=r.text(c, "given_name", f"{p}-given_name"),
        family_name=r.text(c, "family_name", f"{p}-family_name"),
        date_of_birth=r.day(c, "date_of_birth", f"{p}-date_of_birth"),
        address=r.text(c, "address", f"{p}-address"),
        borough_code=r.text(c, "borough", f"{p}-borough"),
        lives_there=r.boolean(c, "lives_there", f"{p}-lives_there"),
        present=r.boolean(c, "present", f"{p}-present"),
        present_where=r.text(c, "present_where", f"{p}-present_where"),
        spoken_to=r.boolean(c, "spoken_to", f"{p}-spoken_to"),
        voice=r.text(c, "voice", f"{p}-voice"),
        school_urn=r.text(c, "school_urn", f"{p}-school_urn"),
        home_educated=bool(r.boolean(c, "home_educated", f"{p}-home_educated")),
        known_to_social_care=r.boolean(c, "known_to_social_care", f"{p}-known_to_social_care"),
    )
