"""Builds what a browser posts from the intake form."""

from __future__ import annotations

import uuid
from typing import Any


def child_fields(index: int, **overrides: str) -> dict[str, str]:
    p = f"children-{index}-"
    values = {
        "given_name": f"Child{index}",
        "family_name": "Sampleton",
        "date_of_birth": ["27", "3", "2016"],
        "address": "2 Nowhere Lane, London",
        "borough": "E09000022",
        "lives_there": "yes",
        "present": "yes",
        "present_where": "living room",
        "spoken_to": "no",
        "voice": "",
        "school_urn": "",
        "known_to_social_care": "unknown",
    }
    values.update(overrides)
    return {p + k: v for k, v in values.items()}  # type: ignore[misc]


def incident_form(csrf: str, *, children: int = 1, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf_token": csrf,
        "action": "save",
        "submission_key": uuid.uuid4().hex,
        "police_reference": "CAD4321/21NOV26",
        "occurred_date": ["20", "11", "2026"],
        "occurred_time": "21:30",
        "received_date": ["20", "11", "2026"],
        "received_time": "23:05",
        "borough": "E09000022",
        "location": "2 Nowhere Lane, London",
        "summary": "Synthetic: raised voices reported.",
        "risk_actuarial": "medium",
        "risk_judgement": "",
        "risk_rationale": "",
        "adults-0-role": "victim",
        "adults-0-given_name": "Quinn",
        "adults-0-family_name": "Sampleton",
        "adults-0-date_of_birth": ["", "", ""],
        "adults-0-address": "2 Nowhere Lane, London",
        "adults-0-phone": "",
    }
    for i in range(children):
        data.update(child_fields(i))
    data.update(overrides)
    return data
