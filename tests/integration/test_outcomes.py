"""The outcome summary (``referrals/services/casefile.py``, ``referrals/web/outcomes.py``): what
each partner did with each child's referral, on time or late, with their words; opening and
printing it audited; "all answered" shown in the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.referral import Referral
from referrals.models.user import Role
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from tests.factories import LAMBETH, front_doors, log_incident, make_user, send_incident, sign_in

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_the_summary_says_what_each_partner_did_and_is_audited(app: Flask) -> None:
    clock.freeze(NOW)
    front_doors(app, LAMBETH)
    with app.app_context():
        desk = make_user(role=Role.DESK_OFFICER).email
        db.session.commit()
    incident = log_incident(app)
    (rid,) = send_incident(app, incident)
    client = app.test_client()
    sign_in(client, desk)
    waiting = client.get(f"/desk/incidents/{incident}/outcomes").text
    assert "Not yet acknowledged" in waiting and "Waiting on partners" in waiting
    clock.freeze(NOW + timedelta(days=2))  # a day after the deadline
    with app.app_context():
        referral = db.session.get(Referral, rid)
        assert referral is not None
        partner = Actor(user_id=None, label="p", role=Role.PARTNER, agency_id=referral.agency_id)
        lifecycle.decide(partner, rid, "early_help", "Family support worker allocated")
        db.session.commit()
    client = app.test_client()
    sign_in(client, desk)
    page = client.get(f"/desk/incidents/{incident}/outcomes").text
    assert "Decided: Early help" in page and "Family support worker allocated" in page
    assert "Late" in page and 'data-testid="all-answered"' in page
    printed = client.get(f"/desk/incidents/{incident}/outcomes?print=1").text
    assert 'data-print="now"' in printed
    assert "All answered" in client.get("/desk/").text
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.kind).where(
                AuditEvent.record_id == str(incident), AuditEvent.action.like("incident.outcomes%")
            )
        ).all()
    assert sorted(events) == [
        ("incident.outcomes_printed", AuditKind.CONSULTATION),
        ("incident.outcomes_viewed", AuditKind.CONSULTATION),
        ("incident.outcomes_viewed", AuditKind.CONSULTATION),
    ]
    assert client.get("/desk/incidents/999999/outcomes").status_code == 404
