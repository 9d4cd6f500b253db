"""The escalation ladder under a moved clock: each step once, on time; missed ticks caught;
quiet hours respected; acknowledged and paused referrals left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.agency import AgencyKind
from referrals.models.escalation import Escalation, EscalationStep
from referrals.models.incident import RiskGrade
from referrals.models.outbox import OutboxMessage
from referrals.models.referral import Referral
from referrals.models.user import Role
from referrals.services import referral_lifecycle as lifecycle
from tests.factories import (
    LAMBETH,
    SYSTEM_DESK,
    front_doors,
    load,
    log_incident,
    make_user,
    send_incident,
)

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 10:00 London, GMT


@pytest.fixture
def referral_id(app: Flask) -> int:
    """One social care referral sent Monday 10:00, due Tuesday 10:00 (1 working day)."""
    clock.freeze(MONDAY)
    front_doors(app, LAMBETH)
    with app.app_context():
        make_user(role=Role.SUPERVISOR, email="super@desk.example")
        from referrals.models.agency import Agency

        door = db.session.scalars(
            select(Agency).where(Agency.kind == AgencyKind.CHILDRENS_SOCIAL_CARE)
        ).one()
        door.duty_manager_email = "duty.manager@agency.example"
        db.session.commit()
    (rid,) = send_incident(app, log_incident(app))
    return rid


def _steps(app: Flask, rid: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            select(Escalation).where(Escalation.referral_id == rid).order_by(Escalation.id)
        )
        return [(e.step.value, clock.to_london(e.at).strftime("%a %H:%M")) for e in rows]


def _sweep_at(app: Flask, moment: datetime) -> int:
    clock.freeze(moment)
    return tasks.sweep(app, "test-worker")


def test_each_step_once_at_its_time(app: Flask, referral_id: int) -> None:
    tuesday = MONDAY + timedelta(days=1)
    assert _sweep_at(app, tuesday - timedelta(minutes=1)) == 0
    assert _sweep_at(app, tuesday) == 1
    assert _sweep_at(app, tuesday + timedelta(minutes=5)) == 0  # a second tick does nothing
    assert _sweep_at(app, tuesday + timedelta(hours=2)) == 1
    assert _sweep_at(app, tuesday + timedelta(hours=4)) == 1
    assert _sweep_at(app, tuesday + timedelta(days=3)) == 0  # the ladder ends
    assert _steps(app, referral_id) == [
        ("reminder", "Tue 10:00"),
        ("duty_manager", "Tue 12:00"),
        ("supervisor", "Tue 14:00"),
    ]
    with app.app_context():
        to = [
            m.to_address
            for m in db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.template != "new_referral")
                .order_by(OutboxMessage.id)
            )
        ]
        referral = db.session.get(Referral, referral_id)
        assert referral is not None
        history = [f"{e.action}: {e.detail}" for e in lifecycle.history(referral)]
    assert to[1:] == ["duty.manager@agency.example", "super@desk.example"]
    assert to[0].startswith("notice")
    assert history[1].startswith("escalated: Reminder to the agency (acknowledgement), to notice")
    assert history[3].startswith("escalated: Escalated to desk supervisors")


def test_missed_ticks_are_caught_on_the_next_sweep(app: Flask, referral_id: int) -> None:
    # Nothing ran all Tuesday; Wednesday morning's sweep takes all three steps, once each.
    assert _sweep_at(app, MONDAY + timedelta(days=2)) == 3
    assert [s for s, _ in _steps(app, referral_id)] == ["reminder", "duty_manager", "supervisor"]
    assert _sweep_at(app, MONDAY + timedelta(days=2, minutes=1)) == 0


def test_working_hours_ladder_skips_the_night(app: Flask) -> None:
    clock.freeze(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # sent Monday 15:00
    front_doors(app, LAMBETH)
    (rid,) = send_incident(app, log_incident(app))
    _sweep_at(app, datetime(2026, 11, 24, 20, 0, tzinfo=UTC))  # Tuesday evening
    assert _steps(app, rid) == [("reminder", "Tue 20:00"), ("duty_manager", "Tue 20:00")]
    # due Tue 15:00; duty manager at 17:00; the supervisor step is 4 working hours after due:
    # Wednesday 11:00, not Tuesday 19:00.
    assert _sweep_at(app, datetime(2026, 11, 25, 10, 59, tzinfo=UTC)) == 0
    assert _sweep_at(app, datetime(2026, 11, 25, 11, 0, tzinfo=UTC)) == 1


def test_quiet_hours_hold_e_mail_until_the_working_day_but_not_for_high_risk(app: Flask) -> None:
    friday_evening = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    clock.freeze(friday_evening)
    front_doors(app, LAMBETH)
    send_incident(app, log_incident(app, police_reference="CADLOW/20NOV26"))
    send_incident(
        app, log_incident(app, police_reference="CADHIGH/20NOV26", risk_actuarial=RiskGrade.HIGH)
    )
    with app.app_context():
        held = {
            (
                m.referral_id and load(Referral, m.referral_id).incident.risk_grade.value,
                clock.to_london(m.next_attempt_at).strftime("%a %H:%M"),
            )
            for m in db.session.scalars(select(OutboxMessage))
        }
    assert held == {("medium", "Mon 09:00"), ("high", "Fri 20:00")}


def test_paused_referrals_wait_and_acknowledgement_starts_the_decision_ladder(
    app: Flask, referral_id: int
) -> None:
    with app.app_context():
        lifecycle.pause(SYSTEM_DESK, referral_id, "Awaiting a call back from the school")
        db.session.commit()
    assert _sweep_at(app, MONDAY + timedelta(days=3)) == 0
    with app.app_context():
        lifecycle.resume(SYSTEM_DESK, referral_id)
        db.session.commit()
        referral = db.session.get(Referral, referral_id)
        assert referral is not None and referral.next_escalation_at is not None
        assert referral.next_escalation_at >= clock.now()
    clock.freeze(clock.now())
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral is not None
        partner_actor = SYSTEM_DESK.__class__(
            user_id=None, label="p", role=Role.PARTNER, agency_id=referral.agency_id
        )
        lifecycle.acknowledge(partner_actor, referral_id)
        db.session.commit()
        referral = db.session.get(Referral, referral_id)
        assert referral is not None and referral.clock_due_at == referral.decision_due_at
    # Acknowledged but never decided: the decision clock climbs its own ladder, once per step.
    assert _sweep_at(app, MONDAY + timedelta(days=10)) == 3
    with app.app_context():
        clocks = db.session.scalars(
            select(Escalation.clock).where(Escalation.referral_id == referral_id)
        ).all()
        assert [c.value for c in clocks] == ["decision"] * 3
        lifecycle.decide(partner_actor, referral_id, "early_help", "")
        db.session.commit()
    assert _sweep_at(app, MONDAY + timedelta(days=20)) == 0


def test_high_risk_escalates_out_of_hours(app: Flask) -> None:
    clock.freeze(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))  # Saturday morning
    front_doors(app, LAMBETH)
    rids = send_incident(app, log_incident(app, risk_actuarial=RiskGrade.HIGH))
    with app.app_context():
        referral = db.session.get(Referral, rids[0])
        assert referral is not None
        due = referral.due_at
    taken = _sweep_at(app, due + timedelta(hours=4, minutes=1))
    assert taken == 3 * len(rids)
    assert {s for s, _ in _steps(app, rids[0])} == {e.value for e in EscalationStep}
