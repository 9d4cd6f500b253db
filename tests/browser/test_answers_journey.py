"""Partners' answers in the browser: a school declines and the desk re-routes it from "Needs the
desk"; children's social care decides two children of one incident in four clicks from the
inbox; the desk adds a sibling after sending and the sibling's school receives it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
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
    send_incident,
)

pytestmark = pytest.mark.browser
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made = [browser.new_context(), browser.new_context()]
    yield made
    for context in made:
        context.close()


def _signed_in(app: Flask, context: BrowserContext, base: str, email: str) -> Page:
    page = context.new_page()
    SignInPage(page, base, app).sign_in(email, PASSWORD)
    return page


def test_a_school_declines_and_the_desk_re_routes_it(
    app: Flask, live_server: str, contexts: list[BrowserContext]
) -> None:
    clock.freeze(NOW)
    front_doors(app, LAMBETH)
    with app.app_context():
        school = make_agency(kind=AgencyKind.SCHOOL, urn="990001", name="Foxwood Primary")
        make_agency(kind=AgencyKind.SCHOOL, urn="990002", name="Greenacre Academy")
        dsl = make_user(role=Role.PARTNER, agency=school).email
        officer = make_user(role=Role.DESK_OFFICER).email
        db.session.commit()
    send_incident(app, log_incident(app, children=[child(school_urn="990001")]))

    school_page = _signed_in(app, contexts[0], live_server, dsl)
    school_page.get_by_test_id("inbox").get_by_role("link", name="Robin Testwood").click()
    school_page.get_by_text("Decline this referral").click()
    school_page.get_by_label("The child has left the school").check()
    school_page.get_by_label("Tell the desk more").fill("Robin moved to Greenacre in September")
    school_page.get_by_role("button", name="Decline").click()
    expect(school_page.get_by_text("The desk will see your reason")).to_be_visible()

    desk = _signed_in(app, contexts[1], live_server, officer)
    expect(desk.get_by_role("link", name="Needs the desk 1")).to_be_visible()
    desk.get_by_role("link", name="Needs the desk 1").click()
    declines = desk.get_by_test_id("needs-declines")
    expect(declines).to_contain_text("The child has left the school")
    declines.get_by_role("link", name="Re-route or accept").click()
    expect(desk.get_by_test_id("decline-reason")).to_contain_text("moved to Greenacre")
    desk.get_by_text("Send it to another agency instead").click()
    desk.get_by_label("Or a school's URN").fill("990002")
    desk.get_by_label("Why send it there").fill("The school says Robin moved to Greenacre")
    desk.get_by_role("button", name="Re-route").click()
    expect(desk.get_by_text("Sent to Greenacre Academy instead")).to_be_visible()
    desk.get_by_role("link", name="Needs the desk 0").click()
    expect(desk.get_by_test_id("needs-declines-empty")).to_be_visible()


def test_social_care_decides_two_children_in_four_clicks(
    app: Flask, live_server: str, contexts: list[BrowserContext]
) -> None:
    clock.freeze(NOW)
    doors = front_doors(app, LAMBETH)
    with app.app_context():
        mash = make_user(
            role=Role.PARTNER, agency=db.session.get(Agency, doors[f"csc-{LAMBETH}"])
        ).email
        db.session.commit()
    send_incident(
        app,
        log_incident(
            app,
            children=[
                child(given_name="Ari"),
                child(given_name="Blair", date_of_birth=date(2013, 6, 1)),
            ],
        ),
    )
    page = _signed_in(app, contexts[0], live_server, mash)
    # From the inbox, each of these is one click: the incident, two decisions, record.
    steps = [
        page.get_by_role("link", name="2 children from this incident: handle together").first,
        page.get_by_role("group", name="Decision for Ari Testwood").get_by_label("Early help"),
        page.get_by_role("group", name="Decision for Blair Testwood").get_by_label(
            "No further action"
        ),
        page.get_by_role("button", name="Record decisions"),
    ]
    for step in steps:
        step.click()
    assert len(steps) == 4
    expect(page.get_by_text("2 decisions recorded")).to_be_visible()
    expect(page.get_by_text("Decided 23 Nov 2026 10:00: Early help")).to_be_visible()


def test_a_sibling_added_after_sending_reaches_the_siblings_school(
    app: Flask, live_server: str, contexts: list[BrowserContext]
) -> None:
    clock.freeze(NOW)
    front_doors(app, LAMBETH)
    with app.app_context():
        make_agency(kind=AgencyKind.SCHOOL, urn="990011", name="Ashdown Primary")
        sister_school = make_agency(kind=AgencyKind.SCHOOL, urn="990012", name="Beacon Academy")
        dsl = make_user(role=Role.PARTNER, agency=sister_school).email
        officer = make_user(role=Role.DESK_OFFICER).email
        db.session.commit()
    incident = log_incident(
        app, police_reference="CAD7777/23NOV26", children=[child(school_urn="990011")]
    )
    send_incident(app, incident)
    clock.freeze(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))

    desk = _signed_in(app, contexts[0], live_server, officer)
    desk.goto(f"{live_server}/desk/incidents/{incident}")
    desk.get_by_role("link", name="Add a child").click()
    desk.get_by_label("First name").fill("Sky")
    desk.get_by_label("Last name").fill("Testwood")
    desk.locator("#person-date_of_birth-day").fill("4")
    desk.locator("#person-date_of_birth-month").fill("5")
    desk.locator("#person-date_of_birth-year").fill("2012")
    desk.get_by_label("Address where the child lives").fill("1 Example Road, London")
    desk.get_by_label("Borough where the child lives").select_option(label="Lambeth")
    desk.get_by_role("group", name="Does the child live at the incident address?").get_by_label(
        "Yes"
    ).check()
    desk.get_by_role("group", name="Was the child present?").get_by_label("No").check()
    desk.get_by_role("group", name="Did officers speak to the child?").get_by_label("No").check()
    desk.get_by_label("School or setting URN").fill("990012")
    desk.get_by_role(
        "group", name="Is the child already known to children's social care?"
    ).get_by_label("Not known").check()
    desk.get_by_label("How did the desk learn of them?").fill(
        "The school nurse mentioned an older sister"
    )
    desk.get_by_role("button", name="Add child").click()
    expect(desk.get_by_text("Child added.")).to_be_visible()
    expect(desk.get_by_test_id("routing")).to_contain_text("Beacon Academy")
    desk.get_by_role("button", name="Send referrals").click()
    expect(desk.get_by_text("2 referrals sent.")).to_be_visible()

    school = _signed_in(app, contexts[1], live_server, dsl)
    expect(school.get_by_test_id("inbox")).to_contain_text("Sky Testwood")
