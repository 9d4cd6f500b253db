"""``demo generate``: synthetic incidents of realistic shape that keep every invariant of intake:
valid by the same rules, sealed identities that open, one pseudonym per person, repeat children
recognised, each child referred to their front door, and an intact audit chain."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import Incident, IncidentPerson, PersonRole
from referrals.models.person import Person
from referrals.models.referral import Referral, ReferralNameToken, ReferralState
from referrals.services import (
    audit,
    bulk_load,
    generator,
    identity_store,
    intake,
    reference_agencies,
    routing,
)
from tests.factories import SYSTEM, SYSTEM_DESK, log_incident


def test_generate_keeps_the_invariants(app: Flask) -> None:
    clock.freeze(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    result = app.test_cli_runner().invoke(
        args=["demo", "generate", "--incidents", "400", "--batch", "150", "--years", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "generated 400 incidents" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Incident.id))) == 400
        schools = (
            db.session.scalar(select(func.count(Agency.id)).where(Agency.kind == AgencyKind.SCHOOL))
            or 0
        )
        assert schools > 1000
        assert audit.verify().ok
        children = db.session.scalars(
            select(IncidentPerson).where(IncidentPerson.role == PersonRole.CHILD)
        ).all()
        sizes = Counter(Counter(c.incident_id for c in children).values())
        assert set(sizes) <= {1, 2, 3, 4} and sizes[1] > sizes[4] > 0
        referred = set(
            db.session.execute(
                select(Referral.subject_id, Agency.kind).join(
                    Agency, Agency.id == Referral.agency_id
                )
            ).all()
        )
        assert all((c.id, AgencyKind.CHILDRENS_SOCIAL_CARE) in referred for c in children)
        assert all((c.id, AgencyKind.SCHOOL) in referred for c in children if c.school_id)
        assert any(c.seen_before_count > 0 for c in children)  # repeat victimisation
        pseudonyms = db.session.scalars(select(Person.pseudonym)).all()
        assert len(pseudonyms) == len(set(pseudonyms))
        sample = children[0]
        identity = identity_store.unseal_json(sample.identity_sealed_id)
        assert identity["given_name"] and identity["date_of_birth"]
        states = Counter(db.session.scalars(select(Referral.state)))
        assert states[ReferralState.ACKNOWLEDGED] + states[ReferralState.DECIDED] > 0
        assert states[ReferralState.WITHDRAWN] > 0  # never answered, closed after a fortnight
        assert states[ReferralState.DECLINED] > 0  # declined, and the desk dealt with it
        dealt = db.session.scalars(
            select(Referral.decline_dealt_at).where(Referral.state == ReferralState.DECLINED)
        ).all()
        assert any(dealt)
        seen = db.session.scalars(
            select(Referral.decision_seen_at).where(Referral.state == ReferralState.DECIDED)
        ).all()
        assert any(seen) and not all(seen)  # the newest decisions still wait for the desk
        assert (db.session.scalar(select(func.count(ReferralNameToken.id))) or 0) > 0
        late = (
            db.session.scalar(
                select(func.count(Referral.id)).where(Referral.acknowledged_at > Referral.due_at)
            )
            or 0
        )
        assert late > 0
    again = app.test_cli_runner().invoke(
        args=["demo", "generate", "--incidents", "50", "--no-sync"]
    )
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert audit.verify().ok  # the chain continues across runs
        assert db.session.scalar(select(func.count(Incident.id))) == 450
    # ...and the desk carries on: ids the generator assigned do not collide with new ones.
    log_incident(app)
    with app.app_context():
        assert db.session.scalar(select(func.count(Incident.id))) == 451


def test_a_batch_that_fails_stops_generation_and_leaves_no_half(app: Flask) -> None:
    """The writer runs in its own process; when a batch cannot be written, generation stops
    with the database's reason and that batch's rows are rolled back together."""
    clock.freeze(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    with app.app_context():
        reference_agencies.ensure_reference_data()
        db.session.commit()
        gen = generator.Generator(300, years=1)
    log_incident(app)  # takes the incident id the generator planned for its first incident
    with app.app_context(), pytest.raises(bulk_load.WriterFailed, match=r"(?i)unique|duplicate"):
        bulk_load.run(app, gen, 100)
    with app.app_context():
        assert db.session.scalar(select(func.count(Incident.id))) == 1
        assert db.session.scalar(select(func.count(Referral.id))) == 0
        assert audit.verify().ok


CLOCK_COLUMNS = (
    "due_at",
    "deadline_rule",
    "decision_due_at",
    "decision_rule",
    "clock_due_at",
    "share_by_at",
    "shared_late",
    "next_escalation_at",
)


def test_a_generated_incident_routes_exactly_as_the_desk_routes_it(app: Flask) -> None:
    """The generator's incidents, logged and sent through intake and routing as the desk does,
    get the same recipients, for the same rules, with the same clocks."""
    clock.freeze(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    with app.app_context():
        reference_agencies.ensure_reference_data()
        db.session.commit()
        gen = generator.Generator(60, years=1, seed=11)
        shaped = [gen._incident(i) for i in range(60)]
        planned = []
        for data in shaped:
            assert data.received_at is not None
            sent = data.received_at + timedelta(minutes=45)
            names = [f"P{i}" for i in range(len(data.adults) + len(data.children))]
            rows = [
                (p.position, p.agency.id, p.rules, *(p.clocks[c] for c in CLOCK_COLUMNS))
                for p in gen.plan(data, sent, names)
            ]
            planned.append((sent, gen.desk_clocks(data), rows))
    kinds: Counter[str] = Counter()
    for data, (sent, desk_clocks, rows) in zip(shaped, planned, strict=True):
        clock.freeze(sent)
        with app.app_context():
            incident, _ = intake.log_incident(SYSTEM, data)
            assert incident.triage_due_at == desk_clocks["triage_due_at"]
            assert incident.share_by_at == desk_clocks["share_by_at"]
            referrals = routing.send(SYSTEM_DESK, incident.id)
            db.session.commit()
            sent_rows = sorted(
                (
                    (
                        r.subject.position,
                        r.agency_id,
                        r.rule_code,
                        r.agency.kind.value,
                        *(getattr(r, c) for c in CLOCK_COLUMNS),
                    )
                    for r in referrals
                ),
                key=lambda row: (row[0], row[3]),
            )
            kinds.update(row[3] for row in sent_rows)
        assert [(r[0], r[1], r[2], *r[4:]) for r in sent_rows] == [
            (r[0], r[1], r[2][0], *r[3:]) for r in rows
        ]
    assert kinds["school"] and kinds["childrens_social_care"]
