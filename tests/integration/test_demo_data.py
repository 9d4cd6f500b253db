"""``demo load``: the London front doors, synthetic schools, one user per role, synthetic
incidents through the import path; a second run keeps what is there."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.referral import Referral
from referrals.models.user import Role, User
from referrals.reference import BOROUGHS
from referrals.services import audit


def test_demo_load_and_reload(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "demo data loaded: 12 synthetic incidents" in first.output
    assert "referrals sent" in first.output
    assert "desk.officer@desk.example" in first.output
    with app.app_context():
        front_doors = db.session.scalars(
            select(Agency.borough_code).where(Agency.kind == AgencyKind.CHILDRENS_SOCIAL_CARE)
        ).all()
        assert sorted(front_doors) == sorted(BOROUGHS)
        schools = db.session.scalars(select(Agency).where(Agency.kind == AgencyKind.SCHOOL)).all()
        assert len(schools) >= 36 and len({s.borough_code for s in schools}) >= 5
        assert all(s.school_urn and len(s.school_urn) == 6 for s in schools)
        roles = {u.role for u in db.session.scalars(select(User))}
        assert roles == set(Role)
        partner_agencies = db.session.scalars(
            select(Agency.kind).join(User, User.agency_id == Agency.id)
        ).all()
        assert partner_agencies.count(AgencyKind.SCHOOL) == 2
        assert partner_agencies.count(AgencyKind.CHILDRENS_SOCIAL_CARE) == 2
        # every child at a school goes to a school in the borough where the child lives
        for link in db.session.scalars(
            select(IncidentPerson).where(IncidentPerson.school_id.is_not(None))
        ):
            assert link.school is not None and link.school.borough_code == link.borough_code
        assert audit.verify().ok
        # every demo partner has at least one referral in their inbox
        for agency_id in db.session.scalars(
            select(User.agency_id).where(User.role == Role.PARTNER)
        ):
            assert db.session.scalar(
                select(func.count(Referral.id)).where(Referral.agency_id == agency_id)
            ), f"agency {agency_id} has no demo referral"
    second = runner.invoke(args=["demo", "load"])
    assert "already holds data: kept" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Incident.id))) == 12
