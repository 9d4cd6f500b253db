"""Before school: at 07:40 on a school day the desk opens "Before school", sees a school referral
the school has not opened, rings and records the call; the school then opens it, and it leaves
the list."""

from __future__ import annotations

from datetime import UTC, datetime

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
    incident_at,
    log_incident,
    make_agency,
    make_user,
    send_incident,
)

pytestmark = pytest.mark.browser


def test_the_desk_rings_a_school_before_the_child_arrives(
    app: Flask, live_server: str, browser: Browser
) -> None:
    sunday_night = datetime(2026, 11, 22, 21, 10, tzinfo=UTC)
    clock.freeze(sunday_night)
    front_doors(app, LAMBETH)
    with app.app_context():
        school = make_agency(kind=AgencyKind.SCHOOL, urn="950001", name="Larkspur Primary")
        school.contact_phone = "020 7946 0950"
        dsl = make_user(role=Role.PARTNER, agency=school).email
        desk = make_user(role=Role.DESK_OFFICER).email
        db.session.commit()
    ids = send_incident(
        app,
        log_incident(
            app,
            police_reference="CAD2468/22NOV26",
            children=[child(school_urn="950001")],
            **incident_at(datetime(2026, 11, 22, 21, 0, tzinfo=UTC)),
        ),
    )
    clock.freeze(datetime(2026, 11, 23, 7, 40, tzinfo=UTC))  # Monday 07:40, school at 08:30

    contexts = [browser.new_context(), browser.new_context()]
    try:
        page = contexts[0].new_page()
        SignInPage(page, live_server, app).sign_in(desk, PASSWORD)
        page.get_by_role("link", name="Before school").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Monday 23 November 2026")
        table = page.get_by_test_id("before-school")
        expect(table).to_contain_text("Larkspur Primary")
        expect(table.get_by_role("link", name="020 7946 0950")).to_be_visible()
        row = table.get_by_role("row").filter(has_text="Larkspur Primary")
        reference = row.get_by_role("link").first.inner_text()
        row.get_by_role("link", name="Record a call").click()
        page.get_by_label("Spoke to the partner: they will act on it today").check()
        page.get_by_label("Note").fill("Spoke to the safeguarding lead at 07:45")
        page.get_by_role("button", name="Record call").click()
        expect(page.get_by_text("Phone call recorded.")).to_be_visible()
        expect(page.get_by_test_id("history")).to_contain_text("Phone chase")

        school_page = contexts[1].new_page()
        SignInPage(school_page, live_server, app).sign_in(dsl, PASSWORD)
        inbox = school_page.get_by_test_id("inbox")
        expect(inbox).to_contain_text(reference)
        inbox.get_by_role("link", name="Robin Testwood").click()
        expect(school_page.get_by_role("button", name="Acknowledge")).to_be_visible()

        page.get_by_role("link", name="Before school").click()
        expect(page.get_by_test_id("before-school-empty")).to_be_visible()
        assert len(ids) == 2
    finally:
        for context in contexts:
            context.close()
