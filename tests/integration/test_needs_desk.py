"""Partners' answers become the desk's work (``referrals/queries/needs_desk.py``,
``referrals/services/desk_work.py``): declines, questions and decisions listed and counted,
told to the desk by e-mail, marked where people look, and each dealt with in one action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.outbox import OutboxMessage
from referrals.models.referral import Referral, ReferralState
from referrals.models.user import Role
from referrals.services import admin
from tests.factories import (
    LAMBETH,
    SOUTHWARK,
    SYSTEM,
    child,
    csrf_from,
    front_doors,
    load,
    log_incident,
    make_agency,
    make_user,
    send_incident,
    sign_in,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday


class Desk:
    """A police desk with a shared notice address, Lambeth's and Southwark's front doors, a
    school, one incident sent (a child at the school), and a partner user at each agency."""

    def __init__(self, app: Flask) -> None:
        clock.freeze(NOW)
        self.app = app
        self.doors = front_doors(app, LAMBETH, SOUTHWARK)
        with app.app_context():
            admin.create_agency(
                SYSTEM,
                admin.AgencyInput(
                    code="MET-DESK",
                    name="Synthetic referrals desk",
                    kind=AgencyKind.POLICE_DESK,
                    notice_email="desk@desk.example",
                ),
            )
            school = make_agency(kind=AgencyKind.SCHOOL, urn="960001")
            door = db.session.get(Agency, self.doors[f"csc-{LAMBETH}"])
            self.dsl = make_user(role=Role.PARTNER, agency=school).email
            self.mash = make_user(role=Role.PARTNER, agency=door).email
            self.officer = make_user(role=Role.DESK_OFFICER).email
            self.supervisor = make_user(role=Role.SUPERVISOR).email
            db.session.commit()
        self.incident = log_incident(app, children=[child(school_urn="960001")])
        ids = send_incident(app, self.incident)
        with app.app_context():
            by_kind = {load(Referral, i).agency.kind: i for i in ids}
        self.school_ref = by_kind[AgencyKind.SCHOOL]
        self.door_ref = by_kind[AgencyKind.CHILDRENS_SOCIAL_CARE]

    def client(self, email: str) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        return client, sign_in(client, email)

    def referral(self, rid: int) -> Referral:
        found = db.session.get(Referral, rid)
        assert found is not None
        return found


@pytest.fixture
def desk(app: Flask) -> Desk:
    return Desk(app)


def _desk_mail(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage.template).where(
                    OutboxMessage.to_address == "desk@desk.example"
                )
            )
        )


def test_a_decline_is_the_desks_work_until_re_routed(desk: Desk) -> None:
    school, csrf = desk.client(desk.dsl)
    declined = school.post(
        f"/portal/referrals/{desk.school_ref}/decline",
        data={
            "csrf_token": csrf,
            "category": "not_on_roll",
            "reason": "No pupil of that name or date of birth on our roll",
        },
        follow_redirects=True,
    )
    assert "Referral declined 23 Nov 2026 10:00. The desk will see your reason." in declined.text
    assert _desk_mail(desk.app) == ["desk_declined"]

    officer, csrf = desk.client(desk.officer)
    queue = officer.get("/desk/").text
    assert "1 declined" in queue
    needs = officer.get("/desk/needs/").text
    assert 'class="app-count-badge">1<' in needs
    assert f"REF-{desk.school_ref:06d}" in needs and "The child is not on our roll" in needs
    page = officer.get(f"/desk/referrals/{desk.school_ref}").text
    assert "No pupil of that name or date of birth on our roll" in page  # the reason is shown
    incident = officer.get(f"/desk/incidents/{desk.incident}").text
    assert "Declined: The child is not on our roll" in incident and "Needs the desk" in incident

    other_school = make_school(desk.app, "960002")
    rerouted = officer.post(
        f"/desk/referrals/{desk.school_ref}/decline/reroute",
        data={
            "csrf_token": csrf,
            "reroute-school_urn": "960002",
            "reroute-reason": "The child moved to Larkspur in September",
        },
        follow_redirects=True,
    )
    assert "Sent to " in rerouted.text and "instead, as REF-" in rerouted.text
    with desk.app.app_context():
        old = desk.referral(desk.school_ref)
        assert old.state is ReferralState.DECLINED and old.decline_dealt_at == NOW
        new = desk.referral(old.rerouted_to_id or 0)
        assert new.agency_id == other_school and new.state is ReferralState.SENT
        assert new.subject_id == old.subject_id and new.sent_at == NOW
        assert new.due_at > NOW  # its own clock, from now
        consulted = db.session.scalars(
            select(AuditEvent.kind).where(
                AuditEvent.action == "referral.viewed",
                AuditEvent.record_id == str(desk.school_ref),
            )
        ).all()
        assert consulted and all(k is AuditKind.CONSULTATION for k in consulted)
    assert 'data-testid="needs-declines-empty"' in officer.get("/desk/needs/").text
    again = officer.post(
        f"/desk/referrals/{desk.school_ref}/decline/accept",
        data={"csrf_token": csrf_from(rerouted.text), "accept-reason": "Changed my mind again"},
        follow_redirects=True,
    )
    assert "The desk has already dealt with this decline" in again.text


def make_school(app: Flask, urn: str) -> int:
    with app.app_context():
        school = make_agency(kind=AgencyKind.SCHOOL, urn=urn)
        db.session.commit()
        return school.id


def test_a_decline_accepted_with_a_reason_leaves_the_list(desk: Desk) -> None:
    school, csrf = desk.client(desk.dsl)
    school.post(
        f"/portal/referrals/{desk.school_ref}/decline",
        data={"csrf_token": csrf, "category": "duplicate", "reason": "Already sent to us by phone"},
    )
    officer, csrf = desk.client(desk.officer)
    short = officer.post(
        f"/desk/referrals/{desk.school_ref}/decline/accept",
        data={"csrf_token": csrf, "accept-reason": "ok"},
    )
    assert short.status_code == 400 and "at least 10 characters" in short.text
    officer.post(
        f"/desk/referrals/{desk.school_ref}/decline/accept",
        data={"csrf_token": csrf, "accept-reason": "Confirmed by phone with the DSL"},
    )
    with desk.app.app_context():
        assert desk.referral(desk.school_ref).decline_dealt_at == NOW
        reason = db.session.scalar(
            select(AuditEvent.reason).where(AuditEvent.action == "referral.decline_accepted")
        )
        assert reason == "Confirmed by phone with the DSL"
    assert "No decline waits for the desk." in officer.get("/desk/needs/").text


def test_a_question_waits_oldest_first_until_answered_and_shows_on_the_board(
    desk: Desk,
) -> None:
    mash, csrf = desk.client(desk.mash)
    mash.post(
        f"/portal/referrals/{desk.door_ref}/messages",
        data={"csrf_token": csrf, "body": "Is the father still living at the address?"},
    )
    clock.freeze(NOW + timedelta(minutes=30))
    mash.post(
        f"/portal/referrals/{desk.door_ref}/messages",
        data={"csrf_token": csrf, "body": "And has the child a social worker elsewhere?"},
    )
    assert _desk_mail(desk.app) == ["desk_question", "desk_question"]
    with desk.app.app_context():
        assert desk.referral(desk.door_ref).question_open_since == NOW  # the first unanswered
    officer, csrf = desk.client(desk.officer)
    assert "1 question" in officer.get("/desk/").text
    needs = officer.get("/desk/needs/").text
    assert f"REF-{desk.door_ref:06d}" in needs and "30 min" in needs
    supervisor, _ = desk.client(desk.supervisor)
    clock.freeze(NOW + timedelta(minutes=40))
    assert 'data-testid="stale-questions"' not in supervisor.get("/supervisor/").text
    clock.freeze(NOW + timedelta(hours=1, minutes=5))  # a working hour since the first question
    supervisor, _ = desk.client(desk.supervisor)  # the first session has been idle too long
    board = supervisor.get("/supervisor/").text
    assert 'data-testid="stale-questions"' in board and f"REF-{desk.door_ref:06d}" in board
    officer, csrf = desk.client(desk.officer)
    officer.post(
        f"/desk/referrals/{desk.door_ref}/reply",
        data={"csrf_token": csrf, "body": "He left; bail conditions keep him away."},
    )
    with desk.app.app_context():
        assert desk.referral(desk.door_ref).question_open_since is None
    assert "No question waits for an answer." in officer.get("/desk/needs/").text


def test_a_decision_is_noted_by_the_desk(desk: Desk) -> None:
    mash, csrf = desk.client(desk.mash)
    mash.post(
        f"/portal/referrals/{desk.door_ref}/decision",
        data={"csrf_token": csrf, "outcome": "early_help", "note": "Family support worker"},
    )
    officer, csrf = desk.client(desk.officer)
    page = officer.get(f"/desk/referrals/{desk.door_ref}").text
    assert "Early help" in page and "Family support worker" in page  # the note is shown
    assert f"REF-{desk.door_ref:06d}" in officer.get("/desk/needs/").text
    officer.post(
        f"/desk/referrals/{desk.door_ref}/seen", data={"csrf_token": csrf, "back": "needs"}
    )
    assert "No new decision to note." in officer.get("/desk/needs/").text
    with desk.app.app_context():
        assert desk.referral(desk.door_ref).decision_seen_at == NOW


def test_the_partner_sees_neither_the_desks_notes_nor_its_addresses(desk: Desk) -> None:
    officer, csrf = desk.client(desk.officer)
    officer.post(
        f"/desk/referrals/{desk.door_ref}/chase",
        data={"csrf_token": csrf, "chase-outcome": "left_message", "chase-note": "Rang twice"},
    )
    mash, _ = desk.client(desk.mash)
    page = mash.get(f"/portal/referrals/{desk.door_ref}").text
    assert "Phone chase" not in page and "Rang twice" not in page
    assert "@desk.example" not in page and "desk:tests" not in page
    assert "The desk" in page
