"""A partner handles an incident in one go (``referral_lifecycle.acknowledge_all``,
``decide_many``; ``/portal/incidents/<id>``): two children to one front door acknowledged and
decided in one submission, each move audited; another agency's incident is a 404."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.models.audit import AuditEvent
from referrals.models.referral import Referral, ReferralState
from referrals.models.user import Role
from tests.factories import (
    LAMBETH,
    SOUTHWARK,
    child,
    csrf_from,
    front_doors,
    load,
    log_incident,
    make_user,
    send_incident,
    sign_in,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class World:
    """Two children of one incident, both to Lambeth's front door; Southwark's user too."""

    def __init__(self, app: Flask) -> None:
        clock.freeze(NOW)
        self.app = app
        doors = front_doors(app, LAMBETH, SOUTHWARK)
        with app.app_context():
            self.lambeth = make_user(
                role=Role.PARTNER, agency=db.session.get(Agency, doors[f"csc-{LAMBETH}"])
            ).email
            self.southwark = make_user(
                role=Role.PARTNER, agency=db.session.get(Agency, doors[f"csc-{SOUTHWARK}"])
            ).email
            db.session.commit()
        self.incident = log_incident(
            app,
            children=[
                child(given_name="Ari"),
                child(given_name="Blair", date_of_birth=date(2013, 6, 1)),
            ],
        )
        self.ids = send_incident(app, self.incident)
        self.other = log_incident(
            app, borough_code=SOUTHWARK, children=[child(borough_code=SOUTHWARK)]
        )
        send_incident(app, self.other)

    def client(self, email: str) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        return client, sign_in(client, email)


@pytest.fixture
def world(app: Flask) -> World:
    return World(app)


def test_two_children_acknowledged_and_decided_in_one_submission(world: World) -> None:
    client, csrf = world.client(world.lambeth)
    inbox = client.get("/portal/").text
    assert "2 children from this incident: handle together" in inbox
    assert "Ari Testwood" in inbox and "Blair Testwood" in inbox  # a front door sees names
    page = client.get(f"/portal/incidents/{world.incident}").text
    assert "2 referrals from one incident" in page and "Acknowledge all 2" in page
    done = client.post(
        f"/portal/incidents/{world.incident}/decisions",
        data={
            "csrf_token": csrf,
            f"decision-{world.ids[0]}-outcome": "early_help",
            f"decision-{world.ids[1]}-outcome": "no_further_action",
            f"decision-{world.ids[1]}-note": "Known family; no new concern",
        },
        follow_redirects=True,
    )
    assert "2 decisions recorded 23 Nov 2026 10:00." in done.text
    with world.app.app_context():
        rows = [db.session.get(Referral, i) for i in world.ids]
        assert all(r and r.state is ReferralState.DECIDED and r.acknowledged_at for r in rows)
        actions = db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.action.in_(("referral.acknowledged", "referral.decided"))
            )
        ).all()
        assert sorted(actions) == ["referral.acknowledged"] * 2 + ["referral.decided"] * 2


def test_acknowledge_all_then_a_wrong_outcome_saves_nothing(world: World) -> None:
    client, csrf = world.client(world.lambeth)
    done = client.post(
        f"/portal/incidents/{world.incident}/acknowledge",
        data={"csrf_token": csrf},
        follow_redirects=True,
    )
    assert "2 referrals acknowledged 23 Nov 2026 10:00." in done.text
    wrong = client.post(
        f"/portal/incidents/{world.incident}/decisions",
        data={
            "csrf_token": csrf_from(done.text),
            f"decision-{world.ids[0]}-outcome": "early_help",
            f"decision-{world.ids[1]}-outcome": "monitoring",  # a school's outcome, not ours
        },
    )
    assert wrong.status_code == 400 and "choose one of the outcomes listed" in wrong.text
    with world.app.app_context():
        assert all(load(Referral, i).state is ReferralState.ACKNOWLEDGED for i in world.ids)
    empty = client.post(
        f"/portal/incidents/{world.incident}/decisions", data={"csrf_token": csrf_from(done.text)}
    )
    assert empty.status_code == 400 and "Choose a decision for at least one child" in empty.text


def test_another_agencys_incident_is_a_404_everywhere(world: World) -> None:
    client, csrf = world.client(world.southwark)
    for method, url in (
        ("GET", f"/portal/incidents/{world.incident}"),
        ("POST", f"/portal/incidents/{world.incident}/acknowledge"),
        ("POST", f"/portal/incidents/{world.incident}/decisions"),
    ):
        data = {"csrf_token": csrf, f"decision-{world.ids[0]}-outcome": "early_help"}
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        assert response.status_code == 404, url
        assert "Ari" not in response.text
    with world.app.app_context():
        assert load(Referral, world.ids[0]).state is ReferralState.SENT
    # ...and a referral of the partner's own, posted against another incident, is not decided.
    mine = client.get(f"/portal/incidents/{world.other}")
    assert mine.status_code == 200
    smuggled = client.post(
        f"/portal/incidents/{world.other}/decisions",
        data={"csrf_token": csrf, f"decision-{world.ids[0]}-outcome": "early_help"},
    )
    assert smuggled.status_code == 404
