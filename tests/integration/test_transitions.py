"""Applying moves (``referrals/services/transitions.py``) against the database, on both engines:
the whole table walked from every state, refusals that change nothing and never answer 500,
and the version check on every move (re-assignment and extension included)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditEvent
from referrals.models.referral import (
    AWAITING,
    MOVES,
    Referral,
    ReferralEvent,
    ReferralState,
    Transition,
)
from referrals.models.user import Role
from referrals.services import supervision, transitions
from referrals.services.actors import Actor
from referrals.services.transitions import Refused
from tests.factories import (
    LAMBETH,
    SYSTEM_DESK,
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
# (state, paused): every place a referral can stand.
PLACES = [
    (ReferralState.SENT, False),
    (ReferralState.SENT, True),
    (ReferralState.VIEWED, False),
    (ReferralState.ACKNOWLEDGED, False),
    (ReferralState.ACKNOWLEDGED, True),
    (ReferralState.DECIDED, False),
    (ReferralState.DECLINED, False),
    (ReferralState.WITHDRAWN, False),
]


@pytest.fixture
def referral_id(app: Flask) -> int:
    """A children's social care referral (it has a decision clock), sent Monday 10:00."""
    clock.freeze(NOW)
    front_doors(app, LAMBETH)
    rids = send_incident(app, log_incident(app))
    return rids[0]


def _put(app: Flask, rid: int, state: ReferralState, paused: bool) -> None:
    """Stand the referral in ``state``, its columns as the moves would have left them."""
    with app.app_context():
        referral = db.session.get(Referral, rid)
        assert referral is not None
        running = {
            ReferralState.SENT: referral.due_at,
            ReferralState.VIEWED: referral.due_at,
            ReferralState.ACKNOWLEDGED: referral.decision_due_at,
        }.get(state)
        db.session.execute(
            update(Referral)
            .where(Referral.id == rid)
            .values(
                state=state,
                paused_at=NOW if paused else None,
                pause_reason="Waiting for the PNC result" if paused else None,
                clock_due_at=running,
                acknowledged_at=NOW if state not in AWAITING else None,
                decided_at=NOW if state is ReferralState.DECIDED else None,
            )
        )
        db.session.commit()


def _snapshot(rid: int) -> tuple[Any, ...]:
    referral = db.session.get(Referral, rid)
    assert referral is not None
    db.session.refresh(referral)
    return (
        referral.state,
        referral.version,
        referral.paused_at,
        referral.clock_due_at,
        db.session.scalar(select(func.count()).where(ReferralEvent.referral_id == rid)),
        db.session.scalar(select(func.count(AuditEvent.seq))),
    )


def _state(referral: Referral) -> ReferralState:
    """The referral's state as it is now (the type checker would keep an earlier assertion's)."""
    return referral.state


def _values(transition: Transition) -> dict[str, Any]:
    """Columns a move plausibly sets (the walk is about whether it may start, not what)."""
    plausible: dict[Transition, dict[str, Any]] = {
        Transition.VIEW: {"viewed_at": NOW},
        Transition.ACKNOWLEDGE: {"acknowledged_at": NOW},
        Transition.DECIDE: {"decided_at": NOW, "decision": "early_help", "clock_due_at": None},
        Transition.PAUSE: {"paused_at": NOW, "pause_reason": "Awaiting information"},
        Transition.RESUME: {"paused_at": None},
        Transition.EXTEND: {"clock_due_at": NOW + timedelta(days=2)},
        Transition.ESCALATE: {"escalation_level": 1},
    }
    return plausible.get(transition, {}) if MOVES[transition].versioned else {}


@pytest.mark.parametrize(
    ("state", "paused"), PLACES, ids=[f"{s.value}{'-paused' if p else ''}" for s, p in PLACES]
)
def test_every_move_from_every_place(
    app: Flask, referral_id: int, state: ReferralState, paused: bool
) -> None:
    _put(app, referral_id, state, paused)
    allowed_seen = 0
    for transition in Transition:
        with app.app_context():
            referral = db.session.get(Referral, referral_id)
            assert referral is not None
            before = _snapshot(referral_id)
            expected = MOVES[transition].refusal(state, paused, referral.facts)
            if transition is Transition.SEND:
                expected = expected or "creation only"
            try:
                transitions.apply(SYSTEM_DESK, referral, transition, values=_values(transition))
            except Refused as refused:
                assert expected is not None, f"{transition.value} refused from {state.value}"
                assert str(refused).startswith(("This referral", "Already", "A decision"))
                db.session.flush()
                assert _snapshot(referral_id) == before, f"{transition.value} changed something"
            else:
                assert expected is None, f"{transition.value} allowed from {state.value}"
                allowed_seen += 1
                after = _snapshot(referral_id)
                assert after[4] == before[4] + 1  # one history row
                assert after[1] == before[1] + (1 if MOVES[transition].versioned else 0)
                target = MOVES[transition].target
                assert after[0] is (target or state)
            db.session.rollback()
    if state is ReferralState.WITHDRAWN:
        assert allowed_seen == 0  # gone for the partner: nothing more happens to it
    else:
        assert allowed_seen > 0


PORTAL = ("acknowledge", "decline", "decision", "messages")
DESK = ("pause", "resume", "withdraw", "reply", "chase")
SUPERVISOR = ("resend", "reassign", "extend")
FORM: dict[str, Any] = {
    "decline": {"reason": "Not a pupil here any more"},
    "decision": {"outcome": "early_help", "note": ""},
    "messages": {"body": "What is the child's first language?"},
    "pause-reason": "Awaiting the police national computer check",
    "withdraw-reason": "Sent to the wrong agency by mistake",
    "reply": {"body": "English"},
    "chase": {"chase-outcome": "no_answer"},
    "extend": {
        "extend-new_date": ["30", "11", "2026"],
        "extend-new_time": "10:00",
        "extend-reason": "Agreed by phone with the manager",
    },
}


@pytest.mark.parametrize(
    ("state", "paused"), PLACES, ids=[f"{s.value}{'-paused' if p else ''}" for s, p in PLACES]
)
def test_every_action_page_answers_without_a_500_and_refusals_change_nothing(
    app: Flask, referral_id: int, state: ReferralState, paused: bool
) -> None:
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral is not None
        partner = make_user(role=Role.PARTNER, agency=referral.agency).email
        supervisor = make_user(role=Role.SUPERVISOR).email
        owner = make_user(role=Role.DESK_OFFICER).id
        db.session.commit()
    _put(app, referral_id, state, paused)
    for email, base, actions in (
        (partner, f"/portal/referrals/{referral_id}", PORTAL),
        (supervisor, f"/desk/referrals/{referral_id}", DESK),
        (supervisor, f"/supervisor/referrals/{referral_id}", SUPERVISOR),
    ):
        client = app.test_client()
        csrf = sign_in(client, email)
        for action in actions:
            data: dict[str, Any] = {"csrf_token": csrf}
            data.update(FORM.get(action, {}) if isinstance(FORM.get(action), dict) else {})
            if action in ("pause", "withdraw"):
                data[f"{action}-reason"] = FORM[f"{action}-reason"]
            if action == "reassign":
                data["reassign-owner_id"] = str(owner)
            response = client.post(f"{base}/{action}", data=data)
            assert response.status_code in (302, 400, 404), (action, response.status_code)
            if response.status_code == 302:
                page = client.get(response.headers["Location"]).text
                csrf = csrf_from(page)
        with app.app_context():
            _put(app, referral_id, state, paused)  # each action from the same place


def test_re_assign_and_extend_check_the_version(app: Flask, referral_id: int) -> None:
    """A page loaded before someone else's change: the re-assignment or extension it posts is
    refused, and nothing is half-done."""
    with app.app_context():
        owner = make_user(role=Role.DESK_OFFICER).id
        db.session.commit()
    later = NOW + timedelta(days=3)
    acts: tuple[Callable[[], object], ...] = (
        lambda: supervision.reassign(SYSTEM_DESK, referral_id, owner),
        lambda: supervision.extend(SYSTEM_DESK, referral_id, later, "Agreed with the manager"),
    )
    for act in acts:
        with app.app_context():
            referral = db.session.get(Referral, referral_id)
            assert referral is not None
            before = _snapshot(referral_id)
            # What this session read is one version behind the row (someone changed it since).
            set_committed_value(referral, "version", referral.version - 1)
            with pytest.raises(Refused, match="a moment ago"):
                act()
            db.session.flush()
            assert _snapshot(referral_id) == before
            db.session.rollback()
    with app.app_context():
        supervision.reassign(SYSTEM_DESK, referral_id, owner)
        supervision.extend(SYSTEM_DESK, referral_id, later, "Agreed with the manager")
        db.session.commit()
        referral = db.session.get(Referral, referral_id)
        assert referral is not None
        assert (referral.owner_id, referral.clock_due_at, referral.due_at) == (owner, later, later)


def test_a_partner_of_another_kind_is_refused_a_decision_outside_its_outcomes(
    app: Flask,
) -> None:
    clock.freeze(NOW)
    front_doors(app, LAMBETH)
    with app.app_context():
        school = make_agency(kind=AgencyKind.SCHOOL, urn="930001")
        db.session.commit()
        actor = Actor(user_id=None, label="dsl", role=Role.PARTNER, agency_id=school.id)
    ids = send_incident(app, log_incident(app, children=[child(school_urn="930001")]))
    with app.app_context():
        rid = next(i for i in ids if load(Referral, i).agency_id == actor.agency_id)
        from referrals.services import referral_lifecycle as lifecycle

        lifecycle.acknowledge(actor, rid)
        with pytest.raises(Exception, match="Choose one of the outcomes"):
            lifecycle.decide(actor, rid, "strategy_discussion_s47", "")
        referral = db.session.get(Referral, rid)
        assert referral is not None and referral.state is ReferralState.ACKNOWLEDGED
        assert referral.clock_due_at is None  # a school has no decision clock


def test_a_move_on_many_skips_one_someone_moved_first(app: Flask) -> None:
    """``apply_many`` (a partner opening an incident's referrals together): a referral another
    session moved since this one read it is left as that session left it, shown where it now
    is, with no history row or webhook of this session's; the others move."""
    clock.freeze(NOW)
    front_doors(app, LAMBETH)
    incident = log_incident(app, children=[child(given_name="Ari"), child(given_name="Blair")])
    ids = [
        r
        for r in send_incident(app, incident)
        if _agency_kind(app, r) is AgencyKind.CHILDRENS_SOCIAL_CARE
    ]
    assert len(ids) == 2
    with app.app_context():
        first, second = (db.session.get(Referral, i) for i in ids)
        assert first is not None and second is not None
        # Another session viewed the second one after this session read it.
        db.session.execute(
            update(Referral)
            .where(Referral.id == second.id)
            .values(state=ReferralState.VIEWED, version=Referral.version + 1)
            .execution_options(synchronize_session=False)
        )
        assert second.state is ReferralState.SENT  # what this session read
        actor = Actor(user_id=None, label="partner", role=Role.PARTNER, agency_id=first.agency_id)
        moved = transitions.apply_many(
            actor, [first, second], Transition.VIEW, values={"viewed_at": clock.now()}
        )
        assert moved == [first]

        assert first.state is ReferralState.VIEWED
        assert _state(second) is ReferralState.VIEWED  # refreshed from the row, as it stands
        viewed = db.session.scalars(
            select(ReferralEvent.referral_id).where(ReferralEvent.action == "viewed")
        ).all()
        assert viewed == [first.id]
        db.session.rollback()


def _agency_kind(app: Flask, referral_id: int) -> AgencyKind:
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral is not None
        return referral.agency.kind
