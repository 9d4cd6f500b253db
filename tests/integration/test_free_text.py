"""Every free text a person types (``referrals/services/free_text.py``) is limited as the model
declares it: one character over is a clear 400 and saves nothing; exactly the limit is saved,
on both engines (a limit longer than its column would be a 500 on PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.audit import AuditEvent
from referrals.models.escalation import Chase
from referrals.models.referral import Referral, ReferralMessage
from referrals.models.routing import RoutingChange
from referrals.models.user import Role
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from tests.factories import LAMBETH, front_doors, log_incident, make_user, send_incident, sign_in

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Field:
    name: str
    who: str  # "partner" or "supervisor"
    path: str  # {rid}, {iid}, {link} and {agency} are filled in
    key: str
    limit: Any  # the model attribute that declares it
    extra: dict[str, Any]
    acknowledged: bool = False
    logged_only: bool = False


FIELDS = [
    Field(
        "pause reason",
        "supervisor",
        "/desk/referrals/{rid}/pause",
        "pause-reason",
        Referral.pause_reason,
        {},
    ),
    Field(
        "withdraw reason",
        "supervisor",
        "/desk/referrals/{rid}/withdraw",
        "withdraw-reason",
        AuditEvent.reason,
        {},
    ),
    Field(
        "extension reason",
        "supervisor",
        "/supervisor/referrals/{rid}/extend",
        "extend-reason",
        AuditEvent.reason,
        {"extend-new_date": ["30", "11", "2026"], "extend-new_time": "10:00"},
    ),
    Field(
        "phone call note",
        "supervisor",
        "/desk/referrals/{rid}/chase",
        "chase-note",
        Chase.note_sealed_id,
        {"chase-outcome": "no_answer"},
    ),
    Field(
        "desk answer",
        "supervisor",
        "/desk/referrals/{rid}/reply",
        "body",
        ReferralMessage.body_sealed_id,
        {},
    ),
    Field(
        "decline reason",
        "partner",
        "/portal/referrals/{rid}/decline",
        "reason",
        Referral.decline_reason_sealed_id,
        {"category": "other"},
    ),
    Field(
        "question to the desk",
        "partner",
        "/portal/referrals/{rid}/messages",
        "body",
        ReferralMessage.body_sealed_id,
        {},
    ),
    Field(
        "decision note",
        "partner",
        "/portal/referrals/{rid}/decision",
        "note",
        Referral.decision_note_sealed_id,
        {"outcome": "early_help"},
        acknowledged=True,
    ),
    Field(
        "routing change reason",
        "supervisor",
        "/desk/incidents/{iid}/routing/add",
        "reason",
        RoutingChange.reason,
        {"subject_id": "{link}", "agency": "{agency}"},
        logged_only=True,
    ),
    Field(
        "reveal reason",
        "supervisor",
        "/desk/incidents/{iid}/people/{link}/reveal",
        "reason",
        AuditEvent.reason,
        {},
        logged_only=True,
    ),
]


def _text(length: int) -> str:
    words = "Awaiting a call back from the duty social worker "
    return (words * (length // len(words) + 1))[: length - 1] + "."


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_free_text_is_limited_as_its_model_says(app: Flask, field: Field) -> None:
    clock.freeze(NOW)
    doors = front_doors(app, LAMBETH)
    incident_id = log_incident(app)
    rid = 0 if field.logged_only else send_incident(app, incident_id)[0]
    with app.app_context():
        link = db.session.scalar(select(Referral.subject_id).where(Referral.id == rid)) or 0
        if field.logged_only:
            from referrals.models.incident import IncidentPerson

            link = (
                db.session.scalar(
                    select(IncidentPerson.id).where(IncidentPerson.incident_id == incident_id)
                )
                or 0
            )
        referral = db.session.get(Referral, rid)
        email = (
            make_user(role=Role.PARTNER, agency=referral.agency).email
            if field.who == "partner" and referral
            else make_user(role=Role.SUPERVISOR).email
        )
        if field.acknowledged and referral:
            lifecycle.acknowledge(Actor(None, "p", Role.PARTNER, referral.agency_id), referral.id)
        db.session.commit()
    client = app.test_client()
    csrf = sign_in(client, email)
    names = {"rid": rid, "iid": incident_id, "link": link, "agency": doors[f"marac-{LAMBETH}"]}
    url = field.path.format(**names)
    extra = {k: (v.format(**names) if isinstance(v, str) else v) for k, v in field.extra.items()}
    limit = text_limit(field.limit)

    def events() -> int:
        with app.app_context():
            return int(db.session.scalar(select(func.count(AuditEvent.seq))) or 0)

    before = events()
    over = client.post(url, data={"csrf_token": csrf, field.key: _text(limit + 1), **extra})
    assert over.status_code == 400, over.text[:300]
    assert f"{limit} characters or fewer" in over.text
    assert events() == before  # nothing saved, nothing audited
    exact = client.post(url, data={"csrf_token": csrf, field.key: _text(limit), **extra})
    assert exact.status_code in (200, 302), exact.text[:300]
    assert events() > before
