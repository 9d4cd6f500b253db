"""The desk's own clocks (triage, Operation Encompass share-by), the decision clock, notices that
are never held past their due time, and the "before school" list, through the app on both
engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.clock import LONDON
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.agency import Agency, AgencyKind
from referrals.models.escalation import DeskEscalation
from referrals.models.incident import DeskClock, Incident, RiskGrade
from referrals.models.outbox import OutboxMessage
from referrals.models.referral import Referral, ReferralEvent
from referrals.models.user import Role
from referrals.queries import referrals as referral_queries
from referrals.queries import reports
from referrals.services import admin
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from tests.factories import (
    LAMBETH,
    SYSTEM,
    child,
    front_doors,
    incident_at,
    load,
    log_incident,
    make_agency,
    make_user,
    send_incident,
    sign_in,
)


def london(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON).astimezone(UTC)


class Desk:
    """A police desk open 08:00-18:00, Lambeth's front door, two schools, and a supervisor."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        front_doors(app, LAMBETH)
        with app.app_context():
            admin.create_agency(
                SYSTEM,
                admin.AgencyInput(
                    code="MET-DESK",
                    name="Synthetic referrals desk",
                    kind=AgencyKind.POLICE_DESK,
                    work_start="08:00",
                    work_end="18:00",
                ),
            )
            self.schools = [
                make_agency(kind=AgencyKind.SCHOOL, urn=urn).id for urn in ("940001", "940002")
            ]
            self.supervisor = make_user(role=Role.SUPERVISOR, email="sup@desk.example").email
            self.desk_officer = make_user(role=Role.DESK_OFFICER).email
            db.session.commit()

    def client(self, email: str) -> FlaskClient:
        client = self.app.test_client()
        sign_in(client, email)
        return client

    def incident(self, received: datetime, **extra: object) -> int:
        return log_incident(
            self.app,
            **incident_at(received),
            children=extra.pop("children", [child(school_urn="940001")]),
            **extra,
        )


@pytest.fixture
def desk(app: Flask) -> Desk:
    clock.freeze(london(2026, 11, 23, 6, 0))  # Monday, before anyone is in
    return Desk(app)


def test_triage_and_share_by_are_set_when_the_incident_is_logged(desk: Desk) -> None:
    clock.freeze(london(2026, 11, 23, 7, 0))
    medium = desk.incident(london(2026, 11, 20, 16, 0))  # Friday 16:00, desk open to 18:00
    high = desk.incident(london(2026, 11, 22, 23, 30), risk_actuarial=RiskGrade.HIGH)
    none_at_school = desk.incident(london(2026, 11, 20, 16, 0), children=[child()])
    with desk.app.app_context():
        got = {i: db.session.get(Incident, i) for i in (medium, high, none_at_school)}
        assert got[medium].triage_due_at == london(2026, 11, 23, 10, 0)  # type: ignore[union-attr]
        assert got[medium].share_by_at == london(2026, 11, 23, 8, 30)  # type: ignore[union-attr]
        assert got[high].triage_due_at == london(2026, 11, 23, 0, 30)  # type: ignore[union-attr]
        assert got[none_at_school].share_by_at is None  # type: ignore[union-attr]


def test_the_queue_shows_and_filters_by_triage(desk: Desk) -> None:
    clock.freeze(london(2026, 11, 23, 9, 30))
    late = desk.incident(london(2026, 11, 23, 8, 0), risk_actuarial=RiskGrade.HIGH)  # 09:00
    soon = desk.incident(london(2026, 11, 23, 9, 0), risk_actuarial=RiskGrade.HIGH)  # 10:00
    later = desk.incident(london(2026, 11, 23, 9, 10))  # medium: 13:10
    client = desk.client(desk.desk_officer)
    with desk.app.app_context():
        refs = {i: load(Incident, i).police_reference for i in (late, soon, later)}
    overdue = client.get("/desk/?triage=overdue").text
    assert refs[late] in overdue and refs[soon] not in overdue and refs[later] not in overdue
    within = client.get("/desk/?triage=hour").text
    assert within.index(refs[late]) < within.index(refs[soon])  # soonest due first
    assert refs[later] not in within
    everything = client.get("/desk/").text
    assert "Triage by 23 Nov 2026 13:10" in everything and "Overdue" in everything


def test_an_unsent_incident_escalates_once_per_desk_clock_and_the_breach_is_recorded(
    desk: Desk,
) -> None:
    clock.freeze(london(2026, 11, 23, 7, 0))
    incident_id = desk.incident(london(2026, 11, 23, 7, 0))  # share by 08:30, triage 12:00
    clock.freeze(london(2026, 11, 23, 8, 31))
    assert tasks.sweep(desk.app, "test") == 1
    clock.freeze(london(2026, 11, 23, 8, 45))
    assert tasks.sweep(desk.app, "test") == 0
    board = desk.client(desk.supervisor).get("/supervisor/").text
    assert 'data-testid="desk-late"' in board
    clock.freeze(london(2026, 11, 23, 12, 1))
    assert tasks.sweep(desk.app, "test") == 1
    assert tasks.sweep(desk.app, "test") == 0
    with desk.app.app_context():
        escalations = db.session.scalars(select(DeskEscalation)).all()
        assert [(e.clock, e.incident_id) for e in escalations] == [
            (DeskClock.SHARE_BY, incident_id),
            (DeskClock.TRIAGE, incident_id),
        ]
        mail = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "desk_deadline")
        ).all()
        assert [m.to_address for m in mail] == ["sup@desk.example"] * 2
        assert mail[0].next_attempt_at == london(2026, 11, 23, 8, 31)  # Encompass: at once
    ids = send_incident(desk.app, incident_id)
    with desk.app.app_context():
        incident = db.session.get(Incident, incident_id)
        assert incident is not None and incident.triage_late and incident.share_late
        school = next(
            r for r in map(lambda i: db.session.get(Referral, i), ids) if r and r.share_by_at
        )
        assert school.shared_late and school.share_by_at == london(2026, 11, 23, 8, 30)
        sent = db.session.scalar(
            select(ReferralEvent.detail).where(ReferralEvent.referral_id == school.id)
        )
        assert sent is not None and "after the desk's Operation Encompass deadline" in sent
    clock.freeze(london(2026, 11, 23, 12, 30))
    assert tasks.sweep(desk.app, "test") == 0  # sent: nothing more for the desk's clocks
    assert tasks.count_reports(desk.app) > 0
    with desk.app.app_context():
        counted = reports.report(reports.ReportFilters(date(2026, 11, 23), date(2026, 11, 23)))
    assert (counted.desk_total.sent, counted.desk_total.triage_late) == (1, 1)
    assert (counted.desk_total.share_due, counted.desk_total.share_late) == (1, 1)


def test_a_school_is_told_at_once_at_night_and_social_care_when_its_day_starts(
    desk: Desk,
) -> None:
    clock.freeze(london(2026, 11, 22, 22, 10))  # Sunday night
    send_incident(
        desk.app, desk.incident(london(2026, 11, 22, 22, 0), risk_actuarial=RiskGrade.STANDARD)
    )
    with desk.app.app_context():
        notices = {
            load(Referral, m.referral_id).agency.kind: m.next_attempt_at
            for m in db.session.scalars(select(OutboxMessage))
            if m.referral_id is not None
        }
        due = {r.agency.kind: r for r in db.session.scalars(select(Referral))}
    assert notices[AgencyKind.SCHOOL] == london(2026, 11, 22, 22, 10)
    assert notices[AgencyKind.CHILDRENS_SOCIAL_CARE] == london(2026, 11, 23, 9, 0)
    for kind, referral in due.items():
        assert notices[kind] <= referral.due_at
        # The first ladder step (the reminder) is at the due time itself.
        assert referral.next_escalation_at == referral.due_at
    assert due[AgencyKind.SCHOOL].due_at == london(2026, 11, 23, 8, 30)


def test_an_acknowledged_referral_without_a_decision_is_overdue_for_decision(
    desk: Desk,
) -> None:
    clock.freeze(london(2026, 11, 23, 10, 0))
    ids = send_incident(desk.app, desk.incident(london(2026, 11, 23, 9, 0)))
    with desk.app.app_context():
        door = next(
            r
            for r in (db.session.get(Referral, i) for i in ids)
            if r and r.agency.kind is AgencyKind.CHILDRENS_SOCIAL_CARE
        )
        assert door.decision_due_at == london(2026, 11, 24, 10, 0)
        partner = make_user(role=Role.PARTNER, agency=door.agency).email
        lifecycle.acknowledge(
            Actor(user_id=None, label="p", role=Role.PARTNER, agency_id=door.agency_id), door.id
        )
        db.session.commit()
        rid = door.id
    clock.freeze(london(2026, 11, 24, 11, 0))
    inbox = desk.client(partner).get("/portal/?tab=decision-overdue").text
    assert f"REF-{rid:06d}" in inbox and "Decision overdue" in inbox
    board = desk.client(desk.supervisor).get("/supervisor/").text
    assert f"REF-{rid:06d}" in board and "1 of them for a decision" in board


def test_before_school_lists_unopened_school_referrals_with_the_number_to_ring(
    desk: Desk,
) -> None:
    with desk.app.app_context():
        for school_id in desk.schools:
            agency = db.session.get(Agency, school_id)
            assert agency is not None
            agency.contact_phone = "020 7946 0123"
        db.session.commit()
    clock.freeze(london(2026, 11, 22, 21, 0))  # Sunday night
    sent = send_incident(
        desk.app,
        desk.incident(
            london(2026, 11, 22, 20, 0),
            children=[child(school_urn="940001"), child(given_name="Sky", school_urn="940002")],
        ),
    )
    clock.freeze(london(2026, 11, 23, 7, 40))
    client = desk.client(desk.desk_officer)
    page = client.get("/desk/before-school").text
    assert "Before school: Monday 23 November 2026" in page
    with desk.app.app_context():
        schools = [r for r in (db.session.get(Referral, i) for i in sent) if r and r.share_by_at]
        assert len(schools) == 2
        for referral in schools:
            assert referral.reference in page
        assert 'href="tel:02079460123"' in page
        first = schools[0]
        lifecycle.open_for_partner(
            Actor(user_id=None, label="dsl", role=Role.PARTNER, agency_id=first.agency_id),
            first.id,
        )
        db.session.commit()
        one = referral_queries.before_school(
            datetime.combine(clock.to_london(clock.now()).date(), time.min, tzinfo=LONDON),
            datetime.combine(
                clock.to_london(clock.now()).date() + timedelta(days=1), time.min, tzinfo=LONDON
            ),
            after=None,
            page_size=1,
        )
        assert [r.id for r in one.items] == [schools[1].id] and one.older is None
        references = (first.reference, schools[1].reference)
    page = client.get("/desk/before-school").text
    assert references[0] not in page and references[1] in page
    empty = client.get("/desk/before-school?day=2026-11-24").text
    assert 'data-testid="before-school-empty"' in empty
    assert client.get("/desk/before-school?day=99999-99-99").status_code == 200
