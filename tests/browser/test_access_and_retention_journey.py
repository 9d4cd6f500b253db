"""An auditor finds who saw a child's record (a desk officer's reveal, with its reason, and the
school that read the referral), by keyboard; and a supervisor disposes of an incident due for
review, after which the child is no record at all."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select, update

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.incident import IncidentPerson, PersonRole
from referrals.models.referral import Referral
from referrals.models.routing import RoutingRule
from referrals.models.user import Role
from referrals.queries import access
from referrals.services import referral_lifecycle as lifecycle
from referrals.services import reveal
from referrals.services.actors import Actor
from tests.browser.pages import SignInPage
from tests.factories import (
    LAMBETH,
    PASSWORD,
    child,
    front_doors,
    log_incident,
    make_agency,
    make_user,
    send_incident,
)

pytestmark = pytest.mark.browser
LOGGED = datetime(2020, 3, 2, 9, 0, tzinfo=UTC)  # over six years ago: due for review
TODAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _history(app: Flask) -> tuple[str, str, str]:
    """An old incident, its school referral opened by the school, the child revealed by the
    desk; returns the child's pseudonym and the auditor's and the supervisor's e-mail."""
    clock.freeze(LOGGED)
    front_doors(app, LAMBETH)
    with app.app_context():
        school = make_agency(kind=AgencyKind.SCHOOL, urn="987301", name="Synthetic Primary")
        db.session.execute(update(RoutingRule).values(effective_from=date(2000, 1, 1)))
        dsl = make_user(role=Role.PARTNER, agency=school, email="dsl@primary.example")
        desk = make_user(role=Role.DESK_OFFICER, email="officer@desk.example")
        auditor = make_user(role=Role.AUDITOR).email
        supervisor = make_user(role=Role.SUPERVISOR).email
        db.session.commit()
        school_id, dsl_id, desk_id = school.id, dsl.id, desk.id
    incident = log_incident(
        app, police_reference="CAD0302/02MAR20", children=[child(school_urn="987301")]
    )
    send_incident(app, incident)
    clock.freeze(LOGGED + timedelta(hours=2))
    with app.app_context():
        link = db.session.scalars(
            select(IncidentPerson).where(
                IncidentPerson.incident_id == incident, IncidentPerson.role == PersonRole.CHILD
            )
        ).one()
        pseudonym = link.person.pseudonym
        referral = db.session.scalars(
            select(Referral).where(
                Referral.incident_id == incident, Referral.agency_id == school_id
            )
        ).one()
        school_actor = Actor(dsl_id, "dsl@primary.example", Role.PARTNER, school_id)
        lifecycle.open_for_partner(school_actor, referral.id)
        desk_actor = Actor(desk_id, "officer@desk.example", Role.DESK_OFFICER)
        reveal.reveal_person(desk_actor, incident, link.id, "Checking the school on the phone")
        db.session.commit()
    clock.freeze(TODAY)
    return pseudonym, auditor, supervisor


def test_an_auditor_finds_who_saw_a_child_then_the_record_is_disposed_of(
    app: Flask, live_server: str, browser: Browser
) -> None:
    pseudonym, auditor, supervisor = _history(app)
    context = browser.new_context()
    try:
        page = context.new_page()
        SignInPage(page, live_server, app).sign_in(auditor, PASSWORD)
        page.get_by_role("link", name="Who saw a record").click()
        page.get_by_label("A person").check()
        page.get_by_label("Pseudonym, police reference or referral number").fill(pseudonym)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Who saw {pseudonym}")
        table = page.get_by_role("table", name=f"Who saw {pseudonym}")
        reveal_row = table.get_by_role("row").filter(has_text="Revealed the identity")
        expect(reveal_row).to_contain_text("officer@desk.example")
        expect(reveal_row).to_contain_text("Checking the school on the phone")
        school_row = table.get_by_role("row").filter(has_text="Opened the referral")
        expect(school_row).to_contain_text("dsl@primary.example")
        expect(school_row).to_contain_text("Synthetic Primary")
        context.clear_cookies()

        page = context.new_page()
        SignInPage(page, live_server, app).sign_in(supervisor, PASSWORD)
        page.get_by_role("link", name="Retention", exact=True).click()
        page.get_by_role("link", name=re.compile(r"^CAD0302\/02MAR20\W+review it$")).click()
        page.get_by_label("Dispose of it: erase it").check()
        page.get_by_label("I understand that disposal erases").check()
        page.get_by_role("button", name="Record the decision").click()
        expect(page.get_by_role("alert", name="Success")).to_contain_text(
            "Incident CAD0302/02MAR20 was disposed of: 2 referrals and all 2 people erased."
        )
        expect(page.get_by_test_id("none-due")).to_be_visible()
    finally:
        context.close()
    with app.app_context():
        assert access.person(pseudonym) is None  # the child is no record at all now
