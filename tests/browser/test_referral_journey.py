"""The desk sends an incident with two children at different schools; one school's safeguarding
lead signs in, sees only their child, acknowledges; the desk sees it acknowledged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.user import Role
from tests.browser.pages import SignInPage
from tests.factories import (
    LAMBETH,
    PASSWORD,
    child,
    front_doors,
    log_incident,
    make_agency,
    make_user,
)

pytestmark = pytest.mark.browser


def test_school_acknowledges_and_the_desk_sees_it(
    app: Flask, live_server: str, browser: Browser
) -> None:
    clock.freeze(datetime(2026, 11, 23, 9, 15, tzinfo=UTC))
    front_doors(app, LAMBETH)
    with app.app_context():
        north = make_agency(
            kind=AgencyKind.SCHOOL, urn="930001", name="Northfield Primary (synthetic)"
        )
        make_agency(kind=AgencyKind.SCHOOL, urn="930002", name="Riverside Academy (synthetic)")
        dsl = make_user(role=Role.PARTNER, agency=north).email
        desk = make_user(role=Role.DESK_OFFICER).email
        db.session.commit()
    incident_id = log_incident(
        app,
        police_reference="CAD1357/22NOV26",
        children=[
            child(given_name="Ellis", family_name="Fictionstone", school_urn="930001"),
            child(
                given_name="Rowan",
                family_name="Fictionstone",
                date_of_birth=date(2013, 2, 2),
                school_urn="930002",
            ),
        ],
    )

    desk_context = browser.new_context()
    school_context = browser.new_context()
    try:
        desk_page = desk_context.new_page()
        SignInPage(desk_page, live_server, app).sign_in(desk, PASSWORD)
        desk_page.goto(f"{live_server}/desk/incidents/{incident_id}")
        routing = desk_page.get_by_test_id("routing")
        expect(routing).to_contain_text("Northfield Primary (synthetic)")
        expect(routing).to_contain_text("Riverside Academy (synthetic)")
        desk_page.get_by_role("button", name="Send referrals").click()
        expect(desk_page.get_by_text("4 referrals sent.")).to_be_visible()

        school = school_context.new_page()
        SignInPage(school, live_server, app).sign_in(dsl, PASSWORD)
        inbox = school.get_by_test_id("inbox")
        expect(inbox.get_by_role("row")).to_have_count(2)  # the header and their one child
        expect(inbox).to_contain_text("CAD1357/22NOV26")
        inbox.get_by_role("link").first.click()
        disclosure = school.get_by_test_id("disclosure")
        expect(disclosure).to_contain_text("CAD1357/22NOV26")
        expect(school.get_by_role("heading", level=1)).to_have_text("Ellis Fictionstone")
        expect(school.locator("body")).not_to_contain_text("Rowan")
        expect(school.locator("body")).not_to_contain_text("shouting heard")  # no narrative
        school.get_by_role("button", name="Acknowledge").click()
        expect(school.get_by_text("Referral acknowledged ")).to_be_visible()
        expect(school.get_by_test_id("acknowledged")).to_be_visible()

        desk_page.reload()
        referrals = desk_page.get_by_test_id("referrals")
        row = referrals.get_by_role("row").filter(has_text="Northfield Primary (synthetic)")
        expect(row).to_contain_text("Acknowledged")
        other = referrals.get_by_role("row").filter(has_text="Riverside Academy (synthetic)")
        expect(other).to_contain_text("Sent")
    finally:
        desk_context.close()
        school_context.close()
