"""Access reports for auditors (``queries/access.py``, ``web/audit.py``): who saw a person, an
incident or a referral across incidents, and what one user saw in a period, over a seeded
history whose every answer is worked out by hand; paged, exported, audited, refused to others,
and bad input answered with a clear error."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditEvent, AuditKind, AuditTouch
from referrals.models.incident import IncidentPerson
from referrals.models.referral import Referral
from referrals.models.user import Role, User
from referrals.queries import access
from referrals.services import casefile, partner_views, reveal
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from tests.factories import (
    LAMBETH,
    child,
    front_doors,
    log_incident,
    make_agency,
    make_user,
    send_incident,
    sign_in,
    user_with,
)

START = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
SIBLING = {
    "given_name": "Sky",
    "family_name": "Testwood",
    "date_of_birth": date(2018, 5, 1),
}


@dataclass
class History:
    """By hand. Incident 1 (Monday): Robin (at school 987101) and Sky (at school 987102), sent
    to Lambeth's front door (both children) and each school (its own child). Incident 2
    (Wednesday): Robin again. Incident 3: someone else.

    - Monday 11:00: the desk officer opens incident 1, and reveals Robin's identity there.
    - Monday 12:00: Robin's school opens Robin's referral; Sky's school opens Sky's (a school
      is never shown a sibling, so that is not an access to Robin).
    - Monday 13:00: the front door opens Sky's referral (a front door sees the siblings: it is),
      and its inbox lists both children with names (one list event touching both referrals).
    - Wednesday 11:00: the desk officer opens incident 2, and incident 3.
    """

    pseudonym: str
    reference_1: str
    incident_1: int
    incident_3: int
    robin_school_referral: int
    desk_email: str
    robin_school_email: str


def _referral(app: Flask, incident_id: int, kind: AgencyKind, given: str) -> int:
    """The referral of the child (known by their school) to an agency of the kind."""
    urn = "987101" if given == "Robin" else "987102"
    with app.app_context():
        for r in db.session.scalars(select(Referral).where(Referral.incident_id == incident_id)):
            school = r.subject.school
            if r.agency.kind is kind and school is not None and school.school_urn == urn:
                return r.id
    raise AssertionError(f"no {kind} referral for {given}")


def _partner(app: Flask, agency_id: int, email: str) -> Actor:
    with app.app_context():
        from referrals.models.agency import Agency

        user = make_user(role=Role.PARTNER, agency=db.session.get(Agency, agency_id), email=email)
        db.session.commit()
        return Actor(user_id=user.id, label=user.email, role=Role.PARTNER, agency_id=agency_id)


def _as(app: Flask, at: datetime, fn: object, *args: object) -> object:
    clock.freeze(at)
    with app.app_context():
        made = fn(*args)  # type: ignore[operator]
        db.session.commit()
        return made


@pytest.fixture
def history(app: Flask) -> History:
    clock.freeze(START)
    doors = front_doors(app, LAMBETH)
    with app.app_context():
        make_agency(kind=AgencyKind.SCHOOL, urn="987101")
        make_agency(kind=AgencyKind.SCHOOL, urn="987102")
        desk = make_user(role=Role.DESK_OFFICER, email="desk.officer@desk.example")
        db.session.commit()
        desk_actor = Actor(user_id=desk.id, label=desk.email, role=Role.DESK_OFFICER)
    first = log_incident(
        app, children=[child(school_urn="987101"), child(**SIBLING, school_urn="987102")]
    )
    send_incident(app, first)
    robin_school = _referral(app, first, AgencyKind.SCHOOL, "Robin")
    sky_school = _referral(app, first, AgencyKind.SCHOOL, "Sky")
    sky_door = _referral(app, first, AgencyKind.CHILDRENS_SOCIAL_CARE, "Sky")
    with app.app_context():
        robin_link = db.session.scalars(
            select(IncidentPerson)
            .where(IncidentPerson.incident_id == first)
            .order_by(IncidentPerson.position)
        ).all()
        robin = next(link for link in robin_link if link.role.value == "child")
        pseudonym, robin_link_id = robin.person.pseudonym, robin.id
        reference = robin.incident.police_reference
        agencies = {
            r.id: r.agency_id
            for r in db.session.scalars(select(Referral).where(Referral.incident_id == first))
        }
    robin_partner = _partner(app, agencies[robin_school], "dsl.robin@school.example")
    sky_partner = _partner(app, agencies[sky_school], "dsl.sky@school.example")
    door = _partner(app, doors[f"csc-{LAMBETH}"], "mash@door.example")

    monday = START + timedelta(hours=1)
    _as(app, monday, casefile.open_incident, desk_actor, first)
    _as(
        app,
        monday,
        reveal.reveal_person,
        desk_actor,
        first,
        robin_link_id,
        "Checking a prior address",
    )
    _as(app, monday + timedelta(hours=1), lifecycle.open_for_partner, robin_partner, robin_school)
    _as(app, monday + timedelta(hours=1), lifecycle.open_for_partner, sky_partner, sky_school)
    _as(app, monday + timedelta(hours=2), lifecycle.open_for_partner, door, sky_door)

    def list_inbox() -> None:
        items = [
            r
            for r in db.session.scalars(select(Referral).where(Referral.incident_id == first))
            if r.agency_id == door.agency_id
        ]
        assert len(items) == 2
        partner_views.audit_shown(door, partner_views.rows(items), "referral.inbox_listed")

    _as(app, monday + timedelta(hours=2), list_inbox)
    wednesday = START + timedelta(days=2, hours=1)
    clock.freeze(wednesday - timedelta(minutes=30))
    second = log_incident(app, children=[child()])
    third = log_incident(app, children=[child(given_name="Jo", family_name="Elsewhere")])
    _as(app, wednesday, casefile.open_incident, desk_actor, second)
    _as(app, wednesday, casefile.open_incident, desk_actor, third)
    return History(
        pseudonym,
        reference,
        first,
        third,
        robin_school,
        desk.email,
        robin_partner.label,
    )


def _seen(app: Flask, subject: access.Subject | None, page_size: int = 50) -> list[tuple[str, str]]:
    assert subject is not None
    with app.app_context():
        page = access.who_saw(subject, before=None, page_size=page_size)
        return [(row.event.actor_label, row.event.action) for row in reversed(page.rows)]


def test_who_saw_a_child_across_incidents_and_not_through_a_sibling_school(
    app: Flask, history: History
) -> None:
    with app.app_context():
        subject = access.person(history.pseudonym.lower())  # as typed, in any case
    seen = _seen(app, subject)
    others = [s for s in seen if s[1] != "referral.sent"]
    assert others == [
        (history.desk_email, "incident.viewed"),
        (history.desk_email, "identity.revealed"),
        (history.robin_school_email, "referral.opened"),
        ("mash@door.example", "referral.opened"),  # Sky's, which shows Robin as a sibling
        ("mash@door.example", "referral.inbox_listed"),
        (history.desk_email, "incident.viewed"),  # incident 2
    ]
    # Sent: Robin's own two referrals and Sky's front-door referral (siblings shown), never
    # Sky's school referral.
    with app.app_context():
        sent_ids = {
            int(e.record_id)
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "referral.sent")
            )
        }
        sky_school = db.session.scalar(
            select(Referral.id)
            .where(
                Referral.incident_id == history.incident_1,
                Referral.id != history.robin_school_referral,
            )
            .join(Referral.agency)
            .where(Referral.agency.has(school_urn="987102"))
        )
    assert sky_school in sent_ids
    assert len([s for s in seen if s[1] == "referral.sent"]) == len(sent_ids) - 1
    assert "dsl.sky@school.example" not in {actor for actor, _ in seen}


def test_who_saw_an_incident_and_a_referral(app: Flask, history: History) -> None:
    with app.app_context():
        by_incident = access.incident(history.reference_1)
        by_referral = access.referral(f"REF-{history.robin_school_referral:06d}")
    incident_seen = _seen(app, by_incident)
    assert ("dsl.sky@school.example", "referral.opened") in incident_seen  # a referral of it
    assert (history.desk_email, "incident.viewed") in incident_seen
    assert len([s for s in incident_seen if s[1] == "incident.viewed"]) == 1  # not 2 or 3
    assert [s for s in _seen(app, by_referral) if s[1] != "referral.sent"] == [
        (history.robin_school_email, "referral.opened")
    ]


def test_pages_of_who_saw_cover_every_event_once(app: Flask, history: History) -> None:
    with app.app_context():
        subject = access.person(history.pseudonym)
        assert subject is not None
        every = access.who_saw(subject, before=None, page_size=100)
        walked = [
            row.event.seq
            for row in access.every_page(lambda **kw: access.who_saw(subject, **kw), page_size=2)
        ]
    assert walked == [row.event.seq for row in every.rows]
    assert len(walked) == every.total == len(set(walked))


def test_what_a_user_saw_in_a_period(app: Flask, history: History) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == history.desk_email))
        assert user is not None
        week = access.what_user_saw(
            access.UserPeriod(user.id, user.email, START.date(), START.date() + timedelta(days=6)),
            before=None,
            page_size=50,
        )
        monday_only = access.what_user_saw(
            access.UserPeriod(user.id, user.email, START.date(), START.date()),
            before=None,
            page_size=50,
        )
    assert [r.event.action for r in reversed(week.rows)] == [
        "incident.viewed",
        "identity.revealed",
        "incident.viewed",
        "incident.viewed",
    ]
    assert week.rows[0].event.record_id == str(history.incident_3)
    assert monday_only.total == 2


@pytest.fixture
def auditor(app: Flask) -> FlaskClient:
    client = app.test_client()
    _, email = user_with(app, Role.AUDITOR)
    sign_in(client, email)
    return client


def test_the_page_shows_who_saw_and_is_itself_audited(
    app: Flask, history: History, auditor: FlaskClient
) -> None:
    page = auditor.get(f"/audit/access?by=person&record={history.pseudonym}")
    assert page.status_code == 200
    assert f"Who saw {history.pseudonym}" in page.text
    assert "dsl.robin@school.example" in page.text
    assert "Revealed the identity" in page.text and "Checking a prior address" in page.text
    assert "dsl.sky@school.example" not in page.text
    with app.app_context():
        asked = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "access.who_saw")
        ).one()
        subject = access.person(history.pseudonym)
        assert subject is not None
        assert (asked.record_type, asked.record_id) == ("person", str(subject.id))
        # The auditor's look is itself an access the next report shows.
        assert asked.seq in {
            r.event.seq for r in access.who_saw(subject, before=None, page_size=50).rows
        }


def test_export_lists_every_event_and_is_a_disclosure(
    app: Flask, history: History, auditor: FlaskClient
) -> None:
    response = auditor.get(f"/audit/access/export.csv?by=incident&record={history.reference_1}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    with app.app_context():
        subject = access.incident(history.reference_1)
        assert subject is not None
        total = access.who_saw(subject, before=None, page_size=1).total
        export = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export.access_who_saw")
        ).one()
    assert rows[0][:3] == ["Event", "When (London)", "Who"]
    assert len(rows) - 1 == total
    assert export.kind is AuditKind.DISCLOSURE and f'"rows":{total}' in (export.detail or "")


def test_an_export_of_a_list_touches_each_row_and_who_saw_finds_it(
    app: Flask, history: History
) -> None:
    client = app.test_client()
    _, email = user_with(app, Role.SUPERVISOR)
    sign_in(client, email)
    response = client.get("/desk/export.csv")
    assert response.status_code == 200
    assert response.data  # the rows are touched as they stream, a batch at a time
    with app.app_context():
        export = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export.desk_queue")
        ).one()
        touched = set(
            db.session.scalars(select(AuditTouch.record_id).where(AuditTouch.seq == export.seq))
        )
        subject = access.person(history.pseudonym)
        assert subject is not None
        seen = {r.event.seq for r in access.who_saw(subject, before=None, page_size=100).rows}
    assert str(history.incident_1) in touched and str(history.incident_3) in touched
    assert export.seq in seen


def test_what_a_user_saw_page_and_export(
    app: Flask, history: History, auditor: FlaskClient
) -> None:
    first = START.date().isoformat()
    page = auditor.get(f"/audit/user?email={history.robin_school_email}&first={first}&last={first}")
    assert page.status_code == 200
    assert "Opened the referral" in page.text
    response = auditor.get(
        f"/audit/user/export.csv?email={history.robin_school_email}&first={first}&last={first}"
    )
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r[5] for r in rows[1:]] == ["Opened the referral"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("by=person&record=C-0000-0000", "No record has the pseudonym C-0000-0000"),
        ("by=incident&record=NOPE%2F1", "No record has the police reference NOPE/1"),
        ("by=referral&record=REF-999999", "No record has the referral number REF-999999"),
        ("by=referral&record=banana", "No record has the referral number banana"),
        ("by=person&record=", "Enter the pseudonym"),
        ("by=spaceship&record=C-1", "Choose what you are looking for"),
        ("record=C-1", "Choose what you are looking for"),
    ],
)
def test_who_saw_bad_input_is_a_clear_error(
    app: Flask, auditor: FlaskClient, query: str, message: str
) -> None:
    page = auditor.get(f"/audit/access?{query}")
    assert page.status_code == 400
    assert message in page.text
    assert "There is a problem" in page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("email=nobody%40desk.example", "No user has the e-mail address nobody@desk.example"),
        ("email=&first=2026-11-01", "Enter the e-mail address of the user"),
        ("email=x%40y.example&first=2026-13-01", "Enter the date as YYYY-MM-DD"),
        (
            "email={me}&first=2026-11-20&last=2026-11-01",
            "The last day must be the same as or after",
        ),
    ],
)
def test_what_a_user_saw_bad_input_is_a_clear_error(
    app: Flask, auditor: FlaskClient, query: str, message: str
) -> None:
    _, me = user_with(app, Role.DESK_OFFICER)
    page = auditor.get(f"/audit/user?{query.format(me=me.replace('@', '%40'))}")
    assert page.status_code == 400
    assert message in page.text


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.AUDITOR])
@pytest.mark.parametrize(
    "path", ["/audit/access?by=person&record=C-1", "/audit/user", "/audit/access/export.csv"]
)
def test_only_auditors_run_access_reports(app: Flask, role: Role, path: str) -> None:
    client = app.test_client()
    _, email = user_with(app, role, agency_kind=AgencyKind.SCHOOL if role is Role.PARTNER else None)
    sign_in(client, email)
    assert client.get(path).status_code == 403
