"""Search (``referrals/queries/search.py``, ``referrals/services/name_search.py``): the desk by
police reference, referral number, pseudonym and school URN; a partner within its own agency by
referral number and the child's name. A foreign referral is never found."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent
from referrals.models.incident import IncidentPerson
from referrals.models.referral import Referral, ReferralNameToken
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

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class World:
    def __init__(self, app: Flask) -> None:
        clock.freeze(NOW)
        self.app = app
        doors = front_doors(app, LAMBETH)
        with app.app_context():
            north = make_agency(kind=AgencyKind.SCHOOL, urn="980001")
            south = make_agency(kind=AgencyKind.SCHOOL, urn="980002")
            self.north, self.south = north.id, south.id
            marac = db.session.get(Agency, doors[f"marac-{LAMBETH}"])
            self.users = {
                "north": make_user(role=Role.PARTNER, agency=north).email,
                "south": make_user(role=Role.PARTNER, agency=south).email,
                "desk": make_user(role=Role.DESK_OFFICER).email,
                "marac": make_user(role=Role.PARTNER, agency=marac).email,
            }
            db.session.commit()
        self.incident = log_incident(
            app,
            police_reference="CAD4321/23NOV26",
            children=[
                child(given_name="Indigo", family_name="Quillwood", school_urn="980001"),
                child(given_name="Wren", family_name="Quillwood", school_urn="980002"),
            ],
        )
        self.ids = send_incident(self.app, self.incident)
        with app.app_context():
            self.north_ref = db.session.scalar(
                select(Referral.id).where(Referral.agency_id == self.north)
            )
            self.south_ref = db.session.scalar(
                select(Referral.id).where(Referral.agency_id == self.south)
            )

    def client(self, who: str) -> FlaskClient:
        client = self.app.test_client()
        sign_in(client, self.users[who])
        return client


@pytest.fixture
def world(app: Flask) -> World:
    return World(app)


def test_the_desk_finds_by_reference_number_pseudonym_and_urn(world: World) -> None:
    desk = world.client("desk")
    by_reference = desk.get("/desk/search?q=cad4321/23nov26").text
    assert "CAD4321/23NOV26" in by_reference and "a police reference" in by_reference
    assert "CAD4321/23NOV26" in desk.get("/desk/search?q=CAD4321").text  # its beginning
    by_number = desk.get(f"/desk/search?q=REF-{world.north_ref:06d}").text
    assert f"REF-{world.north_ref:06d}" in by_number and "a referral number" in by_number
    with world.app.app_context():
        part = db.session.scalars(
            select(IncidentPerson).where(IncidentPerson.incident_id == world.incident)
        ).first()
        assert part is not None
        pseudonym = part.person.pseudonym
    by_pseudonym = desk.get(f"/desk/search?q={pseudonym.lower().replace('-', '')}").text
    assert "CAD4321/23NOV26" in by_pseudonym and pseudonym in by_pseudonym
    by_urn = desk.get("/desk/search?q=980002").text
    assert f"REF-{world.south_ref:06d}" in by_urn and "school URN 980002" in by_urn
    nothing = desk.get("/desk/search?q=CAD0000/01JAN20").text
    assert 'data-testid="search-empty"' in nothing
    for hostile in ("%", "'; DROP TABLE incidents; --", "9" * 40, "REF-99999999999"):
        assert desk.get("/desk/search", query_string={"q": hostile}).status_code == 200


def test_a_partner_finds_its_own_referrals_by_number_and_name_and_nothing_else(
    world: World,
) -> None:
    north = world.client("north")
    found = north.get("/portal/search?q=indigo quillwood").text
    assert f"REF-{world.north_ref:06d}" in found and "Indigo Quillwood" in found
    assert "Wren" not in found
    assert f"REF-{world.north_ref:06d}" in north.get(f"/portal/search?q={world.north_ref}").text
    # The sibling's referral went to another school: never found here, by number or by name.
    for query in (f"REF-{world.south_ref:06d}", "Wren Quillwood", "wren"):
        page = north.get("/portal/search", query_string={"q": query}).text
        assert 'data-testid="search-empty"' in page
        assert f"/portal/referrals/{world.south_ref}" not in page
    # A partial word finds nothing: names are kept only as keyed hashes of whole words.
    assert 'data-testid="search-empty"' in north.get("/portal/search?q=Indi").text
    with world.app.app_context():
        shown = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "referral.search_results")
        ).all()
        assert shown and all(str(world.south_ref) not in (d or "") for d in shown)
        tokens = db.session.scalars(select(ReferralNameToken.token)).all()
        assert tokens and not any("quillwood" in t.lower() or "indigo" in t.lower() for t in tokens)


def test_the_desk_cannot_use_the_partners_search_nor_a_partner_the_desks(world: World) -> None:
    assert world.client("desk").get("/portal/search?q=x").status_code == 403
    assert world.client("north").get("/desk/search?q=x").status_code == 403
