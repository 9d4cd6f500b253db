"""Amending a logged incident (``referrals/services/amend.py``): a sibling found after sending gets
exactly its new referrals, nothing is sent twice, corrections are checked as at intake and
audited, and partners see that the incident was amended within what their kind may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent
from referrals.models.incident import IncidentAmendment, IncidentPerson
from referrals.models.referral import Referral
from referrals.models.user import Role
from tests.factories import (
    LAMBETH,
    child,
    front_doors,
    log_incident,
    make_agency,
    make_user,
    send_incident,
    sign_in,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday


class World:
    """One incident with one child at school A, sent; school B exists; users at each."""

    def __init__(self, app: Flask) -> None:
        clock.freeze(NOW)
        self.app = app
        doors = front_doors(app, LAMBETH)
        with app.app_context():
            self.school_a = make_agency(kind=AgencyKind.SCHOOL, urn="970001").id
            self.school_b = make_agency(kind=AgencyKind.SCHOOL, urn="970002").id
            users = {
                "a": make_user(role=Role.PARTNER, agency=db.session.get(Agency, self.school_a)),
                "b": make_user(role=Role.PARTNER, agency=db.session.get(Agency, self.school_b)),
                "door": make_user(
                    role=Role.PARTNER, agency=db.session.get(Agency, doors[f"csc-{LAMBETH}"])
                ),
                "desk": make_user(role=Role.DESK_OFFICER),
            }
            self.emails = {k: u.email for k, u in users.items()}
            db.session.commit()
        self.incident = log_incident(app, children=[child(school_urn="970001")])
        self.first = send_incident(app, self.incident)
        with app.app_context():
            self.door_ref = db.session.scalar(
                select(Referral.id).where(
                    Referral.id.in_(self.first), Referral.agency_id == doors[f"csc-{LAMBETH}"]
                )
            )

    def client(self, who: str) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        return client, sign_in(client, self.emails[who])

    def add_child(self, client: FlaskClient, csrf: str, **extra: Any) -> Any:
        data = {
            "csrf_token": csrf,
            "person-given_name": "Sky",
            "person-family_name": "Testwood",
            "person-date_of_birth": ["4", "5", "2014"],
            "person-address": "1 Example Road, London",
            "person-borough": LAMBETH,
            "person-lives_there": "yes",
            "person-present": "no",
            "person-spoken_to": "no",
            "person-school_urn": "970002",
            "person-known_to_social_care": "unknown",
            "learned_date": ["23", "11", "2026"],
            "learned_time": "09:30",
            "reason": "The mother mentioned an older sister at another school",
        }
        data.update(extra)
        return client.post(f"/desk/incidents/{self.incident}/people/new?kind=child", data=data)


@pytest.fixture
def world(app: Flask) -> World:
    return World(app)


def test_a_sibling_found_after_sending_gets_exactly_its_new_referrals(world: World) -> None:
    clock.freeze(NOW + timedelta(minutes=10))
    desk, csrf = world.client("desk")
    added = world.add_child(desk, csrf)
    assert added.status_code == 302
    page = desk.get(f"/desk/incidents/{world.incident}").text
    assert "Proposed routing for the people added since sending" in page
    clock.freeze(NOW + timedelta(hours=1))
    desk, csrf = world.client("desk")
    sent = desk.post(
        f"/desk/incidents/{world.incident}/send", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "2 referrals sent." in sent.text
    again = desk.post(
        f"/desk/incidents/{world.incident}/send", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "already been sent" in again.text
    with world.app.app_context():
        sibling = db.session.scalars(
            select(IncidentPerson).where(IncidentPerson.added_at.is_not(None))
        ).one()
        assert sibling.added_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
        new = db.session.scalars(select(Referral).where(Referral.subject_id == sibling.id)).all()
        assert {r.agency.kind for r in new} == {
            AgencyKind.CHILDRENS_SOCIAL_CARE,
            AgencyKind.SCHOOL,
        }
        school = next(r for r in new if r.agency.kind is AgencyKind.SCHOOL)
        assert school.agency_id == world.school_b
        assert school.share_by_at == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
        assert school.sent_at == NOW + timedelta(hours=1)
        assert db.session.scalar(select(func.count(Referral.id))) == len(world.first) + 2
        audited = db.session.scalar(
            select(AuditEvent.reason).where(AuditEvent.action == "incident.person_added")
        )
        assert audited == "The mother mentioned an older sister at another school"
    # The front door (shown siblings) is told; the first child's school (not shown them) is not.
    door, _ = world.client("door")
    door_page = door.get(f"/portal/referrals/{world.door_ref}").text
    assert "a child was added to the incident" in door_page
    school_a, _ = world.client("a")
    with world.app.app_context():
        school_ref = db.session.scalar(
            select(Referral.id).where(Referral.agency_id == world.school_a)
        )
    assert 'data-testid="amended"' not in school_a.get(f"/portal/referrals/{school_ref}").text


def test_adding_a_person_is_checked_as_at_intake_and_saves_nothing_when_wrong(
    world: World,
) -> None:
    desk, csrf = world.client("desk")
    wrong = world.add_child(
        desk,
        csrf,
        **{"person-date_of_birth": ["1", "1", "2001"], "person-school_urn": "12", "reason": "x"},
    )
    assert wrong.status_code == 400
    for message in ("A child must be under 18", "6 digits", "at least 10 characters"):
        assert message in wrong.text
    twice = world.add_child(
        desk,
        csrf,
        **{
            "person-given_name": "Robin",
            "person-date_of_birth": ["27", "3", "2016"],
            "person-school_urn": "970001",
        },
    )
    assert twice.status_code == 400 and "already recorded on the incident" in twice.text
    with world.app.app_context():
        assert db.session.scalar(select(func.count(IncidentPerson.id))) == 2
        assert db.session.scalar(select(func.count(IncidentAmendment.id))) == 0


def test_a_correction_is_told_to_each_partner_within_what_it_may_see(world: World) -> None:
    clock.freeze(NOW + timedelta(minutes=10))
    desk, csrf = world.client("desk")
    with world.app.app_context():
        link = db.session.scalars(
            select(IncidentPerson).where(IncidentPerson.incident_id == world.incident)
        ).all()
        child_link = next(p for p in link if p.role.value == "child")
        before = child_link.person.pseudonym
    blank = desk.post(
        f"/desk/incidents/{world.incident}/people/{child_link.id}/correct",
        data={"csrf_token": csrf, "reason": "Typo in the name"},
    )
    assert blank.status_code == 400 and "Enter what is to be corrected" in blank.text
    corrected = desk.post(
        f"/desk/incidents/{world.incident}/people/{child_link.id}/correct",
        data={
            "csrf_token": csrf,
            "person-given_name": "Robyn",
            "person-voice": "Said she hid upstairs.",
            "reason": "The officer spelt the name wrongly on the notification",
        },
    )
    assert corrected.status_code == 302
    with world.app.app_context():
        link_now = db.session.get(IncidentPerson, child_link.id)
        assert link_now is not None and link_now.person.pseudonym != before
        school_ref = db.session.scalar(
            select(Referral.id).where(Referral.agency_id == world.school_a)
        )
    school, _ = world.client("a")
    page = school.get(f"/portal/referrals/{school_ref}").text
    assert "Robyn Testwood" in page and "Said she hid upstairs." in page
    assert (
        "details you were sent were corrected: name or date of birth, what the child said" in page
    )
    desk.post(
        f"/desk/incidents/{world.incident}/correct",
        data={
            "csrf_token": csrf,
            "summary": "Synthetic: corrected account of the argument.",
            "reason": "The first account named the wrong room",
        },
    )
    page = school.get(f"/portal/referrals/{school_ref}").text
    assert "what happened" not in page  # a school is never shown the narrative, nor its changes
    door, _ = world.client("door")
    door_page = door.get(f"/portal/referrals/{world.door_ref}").text
    assert "the incident&#39;s details were corrected: what happened" in door_page
    assert "Synthetic: corrected account of the argument." in door_page


def test_a_correction_keeps_the_intake_rules(world: World) -> None:
    desk, csrf = world.client("desk")
    with world.app.app_context():
        child_link = db.session.scalars(
            select(IncidentPerson).where(
                IncidentPerson.incident_id == world.incident, IncidentPerson.role == "child"
            )
        ).one()
    too_old = desk.post(
        f"/desk/incidents/{world.incident}/people/{child_link.id}/correct",
        data={
            "csrf_token": csrf,
            "person-date_of_birth": ["1", "1", "2000"],
            "reason": "The date of birth was mistyped",
        },
    )
    assert too_old.status_code == 400 and "A child must be under 18" in too_old.text
    with world.app.app_context():
        unchanged = db.session.get(IncidentPerson, child_link.id)
        assert unchanged is not None and unchanged.age_band != "18+"
        assert db.session.scalar(select(func.count(IncidentAmendment.id))) == 0
