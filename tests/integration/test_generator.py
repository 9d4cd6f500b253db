"""``demo generate``: synthetic incidents of realistic shape that keep every invariant of intake:
valid by the same rules, sealed identities that open, one pseudonym per person, repeat children
recognised, each child referred to their front door, and an intact audit chain."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import Incident, IncidentPerson, PersonRole
from referrals.models.person import Person
from referrals.models.referral import Referral, ReferralState
from referrals.services import audit, bulk_load, generator, identity_store
from tests.factories import log_incident


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
        generator.ensure_reference_data()
        db.session.commit()
        gen = generator.Generator(300, years=1)
    log_incident(app)  # takes the incident id the generator planned for its first incident
    with app.app_context(), pytest.raises(bulk_load.WriterFailed, match=r"(?i)unique|duplicate"):
        bulk_load.run(app, gen, 100)
    with app.app_context():
        assert db.session.scalar(select(func.count(Incident.id))) == 1
        assert db.session.scalar(select(func.count(Referral.id))) == 0
        assert audit.verify().ok
