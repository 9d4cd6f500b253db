"""The partner portal: minimised views per kind, isolation across every route, the lifecycle,
and concurrent acknowledgement."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.incident import Incident, IncidentStatus, PersonRole
from referrals.models.referral import Referral, ReferralState
from referrals.models.user import Role
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.disclosure import disclose
from tests.factories import (
    LAMBETH,
    SYSTEM_DESK,
    adult,
    child,
    front_doors,
    load,
    log_incident,
    make_agency,
    make_user,
    send_incident,
    sign_in,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday
SECRET_SUMMARY = "Synthetic: suspect threw a mug at the victim."


@pytest.fixture(autouse=True)
def _now() -> None:
    clock.freeze(NOW)


class World:
    """Two schools, a front door, partner users for each, and one incident with two children."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.doors = front_doors(app, LAMBETH)
        with app.app_context():
            north = make_agency(kind=AgencyKind.SCHOOL, urn="920001")
            south = make_agency(kind=AgencyKind.SCHOOL, urn="920002")
            self.north_id, self.south_id = north.id, south.id
            self.north_user = make_user(role=Role.PARTNER, agency=north).email
            self.north_colleague = make_user(role=Role.PARTNER, agency=north).email
            self.south_user = make_user(role=Role.PARTNER, agency=south).email
            from referrals.models.agency import Agency

            door = db.session.get(Agency, self.doors[f"csc-{LAMBETH}"])
            self.csc_user = make_user(role=Role.PARTNER, agency=door).email
            self.desk_user = make_user(role=Role.DESK_OFFICER).email
            db.session.commit()
        self.incident_id = log_incident(
            app,
            summary=SECRET_SUMMARY,
            adults=[
                adult(
                    given_name="Morgan",
                    family_name="Suspectson",
                    role=PersonRole.SUSPECT,
                    address="9 Suspect Street",
                ),
                adult(given_name="Avery", family_name="Parentson", address="1 Nonabusing Avenue"),
            ],
            children=[
                child(given_name="Ellis", school_urn="920001"),
                child(given_name="Rowan", date_of_birth=date(2019, 9, 3), school_urn="920002"),
            ],
        )
        send_incident(app, self.incident_id)
        with app.app_context():
            rows = db.session.scalars(select(Referral)).all()
            self.north_ref = next(r.id for r in rows if r.agency_id == self.north_id)
            self.south_ref = next(r.id for r in rows if r.agency_id == self.south_id)
            self.csc_refs = [r.id for r in rows if r.agency_id == self.doors[f"csc-{LAMBETH}"]]

    def client(self, email: str) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        return client, sign_in(client, email)


@pytest.fixture
def world(app: Flask) -> World:
    return World(app)


def test_school_sees_the_operation_encompass_minimum_and_nothing_more(world: World) -> None:
    client, _ = world.client(world.north_user)
    page = client.get(f"/portal/referrals/{world.north_ref}")
    assert page.status_code == 200
    for shown in ("Ellis Testwood", "27 March 2016", "in the kitchen"):
        assert shown in page.text
    for hidden in (
        SECRET_SUMMARY,
        "Suspectson",
        "Morgan",
        "9 Suspect Street",
        "1 Nonabusing Avenue",
        "Parentson",
        "Rowan",
        "Medium",
    ):
        assert hidden not in page.text, hidden
    with world.app.app_context():
        d = disclose(load(Referral, world.north_ref))
        assert d.summary is None and d.household is None and d.siblings is None
        assert d.risk is None and d.subject.address is None


def test_social_care_gets_the_full_notification(world: World) -> None:
    client, _ = world.client(world.csc_user)
    page = client.get(f"/portal/referrals/{world.csc_refs[0]}")
    assert page.status_code == 200
    for shown in (
        SECRET_SUMMARY,
        "Suspectson",
        "9 Suspect Street",
        "1 Nonabusing Avenue",
        "Medium",
    ):
        assert shown in page.text, shown


def test_first_opening_marks_viewed_and_every_opening_is_a_disclosure(world: World) -> None:
    client, _ = world.client(world.north_user)
    client.get(f"/portal/referrals/{world.north_ref}")
    client.get(f"/portal/referrals/{world.north_ref}")
    with world.app.app_context():
        referral = db.session.get(Referral, world.north_ref)
        assert referral is not None and referral.state is ReferralState.VIEWED
        opened = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.opened")
        ).all()
        assert len(opened) == 2
        assert all(
            e.kind is AuditKind.DISCLOSURE and e.recipients == "SCH-" + (e.recipients or "")[4:]
            for e in opened
        )


def _portal_urls(app: Flask, referral_id: int) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("portal.") and "referral_id" in rule.arguments:
            method = "POST" if "POST" in (rule.methods or ()) else "GET"
            urls.append((method, rule.rule.replace("<id:referral_id>", str(referral_id))))
    return urls


def test_every_portal_route_answers_404_for_another_agencys_referral(world: World) -> None:
    client, csrf = world.client(world.south_user)
    urls = _portal_urls(world.app, world.north_ref)
    assert len(urls) >= 5  # the page, acknowledge, decline, decision, messages
    for method, url in urls:
        data = {
            "csrf_token": csrf,
            "reason": "trying my luck here",
            "body": "hello there",
            "outcome": "monitoring",
        }
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
        assert "Ellis" not in response.text
    with world.app.app_context():
        referral = db.session.get(Referral, world.north_ref)
        assert referral is not None and referral.state is ReferralState.SENT  # untouched


def test_lists_and_counts_never_include_another_agencys_referral(world: World) -> None:
    client, _ = world.client(world.south_user)
    for tab in ("new", "due-soon", "overdue", "acknowledged", "decided"):
        page = client.get(f"/portal/?tab={tab}")
        assert f'/portal/referrals/{world.north_ref}"' not in page.text
    inbox = client.get("/portal/")
    assert f'/portal/referrals/{world.south_ref}"' in inbox.text
    assert 'New <span class="app-count">(1)</span>' in inbox.text


def test_a_withdrawn_referral_disappears_at_once(world: World) -> None:
    client, _ = world.client(world.north_user)
    assert client.get(f"/portal/referrals/{world.north_ref}").status_code == 200
    with world.app.app_context():
        lifecycle.withdraw(SYSTEM_DESK, world.north_ref, "Sent to the wrong school by mistake")
        db.session.commit()
    assert client.get(f"/portal/referrals/{world.north_ref}").status_code == 404
    assert f'/portal/referrals/{world.north_ref}"' not in client.get("/portal/").text


def test_desk_and_admin_reach_nothing_of_the_portal(world: World) -> None:
    client, _ = world.client(world.desk_user)
    assert client.get("/portal/").status_code == 403
    assert client.get(f"/portal/referrals/{world.north_ref}").status_code == 403


def test_acknowledge_decide_and_invalid_moves(world: World) -> None:
    client, csrf = world.client(world.north_user)
    url = f"/portal/referrals/{world.north_ref}"
    acknowledged = client.post(
        f"{url}/acknowledge", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "Referral acknowledged 23 Nov 2026 10:00, on time." in acknowledged.text
    wrong = client.post(
        f"{url}/decision", data={"csrf_token": csrf, "outcome": "strategy_discussion_s47"}
    )
    assert wrong.status_code == 400 and "Choose one of the outcomes listed" in wrong.text
    decided = client.post(
        f"{url}/decision",
        data={"csrf_token": csrf, "outcome": "monitoring", "note": "DSL will check in daily"},
        follow_redirects=True,
    )
    assert "Noted: the school is monitoring" in decided.text
    again = client.post(f"{url}/acknowledge", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Already acknowledged by" in again.text


def test_a_decision_on_a_referral_not_yet_acknowledged_acknowledges_it_too(world: World) -> None:
    client, csrf = world.client(world.north_user)
    decided = client.post(
        f"/portal/referrals/{world.north_ref}/decision",
        data={"csrf_token": csrf, "outcome": "monitoring"},
        follow_redirects=True,
    )
    assert "Decision recorded 23 Nov 2026 10:00." in decided.text
    with world.app.app_context():
        referral = db.session.get(Referral, world.north_ref)
        assert referral is not None and referral.state is ReferralState.DECIDED
        assert referral.acknowledged_at == referral.decided_at == NOW
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.record_id == str(world.north_ref))
            .order_by(AuditEvent.seq)
        ).all()
        assert [a for a in actions if a != "referral.opened"][-2:] == [
            "referral.acknowledged",
            "referral.decided",
        ]


def test_decline_needs_a_reason(world: World) -> None:
    client, csrf = world.client(world.south_user)
    url = f"/portal/referrals/{world.south_ref}/decline"
    short = client.post(url, data={"csrf_token": csrf, "reason": "no"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    done = client.post(
        url,
        data={"csrf_token": csrf, "category": "left_school", "reason": "Child left in May"},
        follow_redirects=True,
    )
    assert "Referral declined" in done.text


def test_partner_asks_and_the_desk_answers_on_the_thread(world: World) -> None:
    partner, partner_csrf = world.client(world.north_user)
    partner.post(
        f"/portal/referrals/{world.north_ref}/messages",
        data={"csrf_token": partner_csrf, "body": "Is the child's father still at home?"},
    )
    desk, desk_csrf = world.client(world.desk_user)
    page = desk.get(f"/desk/referrals/{world.north_ref}")
    assert "Is the child&#39;s father still at home?" in page.text
    desk.post(
        f"/desk/referrals/{world.north_ref}/reply",
        data={"csrf_token": desk_csrf, "body": "No: bail conditions keep him away."},
    )
    thread = partner.get(f"/portal/referrals/{world.north_ref}")
    assert "bail conditions keep him away" in thread.text


def test_pause_and_resume_move_the_due_time_by_working_time_paused(world: World) -> None:
    desk, csrf = world.client(world.desk_user)
    csc = world.csc_refs[0]
    with world.app.app_context():
        before = load(Referral, csc).due_at
    desk.post(
        f"/desk/referrals/{csc}/pause",
        data={"csrf_token": csrf, "pause-reason": "Awaiting the PNC check"},
    )
    for minutes in range(20, 181, 20):  # 10:00 to 13:00 on a Monday: 3 working hours,
        clock.freeze(NOW + timedelta(minutes=minutes))  # the desk busy (no idle sign-out)
        assert desk.get(f"/desk/referrals/{csc}").status_code == 200
    page = desk.post(
        f"/desk/referrals/{csc}/resume", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "Referral resumed" in page.text
    with world.app.app_context():
        after = load(Referral, csc).due_at
        actions = db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.record_type == "referral", AuditEvent.record_id == str(csc)
            )
        ).all()
    assert clock.to_london(before).strftime("%a %H:%M") == "Tue 10:00"
    assert clock.to_london(after).strftime("%a %H:%M") == "Tue 13:00"
    assert {"referral.paused", "referral.resumed"} <= set(actions)


def test_incident_closes_when_every_partner_has_responded(world: World) -> None:
    with world.app.app_context():
        for rid in db.session.scalars(select(Referral.id)).all():
            lifecycle.withdraw(SYSTEM_DESK, rid, "Duplicate of an earlier notification")
        db.session.commit()
        incident = db.session.get(Incident, world.incident_id)
        assert incident is not None and incident.status is IncidentStatus.CLOSED


def test_concurrent_acknowledgement_one_wins_never_a_500(world: World) -> None:
    people = [world.client(world.north_user), world.client(world.north_colleague)] * 2
    barrier = threading.Barrier(len(people))
    results: list[tuple[int, str]] = []

    def press(client: FlaskClient, csrf: str) -> None:
        barrier.wait()
        response = client.post(
            f"/portal/referrals/{world.north_ref}/acknowledge",
            data={"csrf_token": csrf},
            follow_redirects=True,
        )
        results.append((response.status_code, response.text))

    threads = [threading.Thread(target=press, args=pair) for pair in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in results] == [200] * len(people)
    won = [text for _, text in results if "Referral acknowledged " in text]
    lost = [text for _, text in results if "Already acknowledged by" in text]
    assert len(won) == 1 and len(lost) == len(people) - 1
    assert all(
        re.search(r"Already acknowledged by Synthetic partner \d+ at \d\d:\d\d", t) for t in lost
    )
    with world.app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.acknowledged")
        ).all()
        assert len(events) == 1


def test_the_desk_queue_shows_what_still_waits_on_a_partner(world: World) -> None:
    client, _ = world.client(world.desk_user)
    page = client.get("/desk/")
    assert "Waiting on partners" in page.text
    assert "0 of 4 answered" in page.text  # each child: a school and the front door
    clock.freeze(NOW + timedelta(days=2))
    client2, _ = world.client(world.desk_user)
    assert "4 overdue" in client2.get("/desk/").text
