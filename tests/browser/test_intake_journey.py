"""A desk officer signs in, logs an incident with two children (adding the second with the
button, which keeps what was typed), and sees it in the queue and on its page by pseudonym."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from referrals import clock
from referrals.extensions import db
from referrals.models.incident import IncidentPerson
from referrals.models.user import Role
from tests.browser.pages import IntakePage, SignInPage
from tests.factories import PASSWORD, user_with

pytestmark = pytest.mark.browser


def test_desk_officer_logs_an_incident_with_two_children(
    app: Flask, live_server: str, browser: Browser
) -> None:
    clock.freeze(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    _, email = user_with(app, Role.DESK_OFFICER)
    context = browser.new_context()
    page = context.new_page()
    try:
        SignInPage(page, live_server, app).sign_in(email, PASSWORD)
        expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()
        expect(page.get_by_test_id("queue-empty")).to_be_visible()

        intake = IntakePage(page)
        intake.open()
        intake.incident("CAD2468/20NOV26")
        intake.adult(0, "Harley", "Fictionstone")
        intake.child(0, "Ellis", "Fictionstone", ("14", "2", "2015"))
        intake.add_child()
        # The first child's answers survived the round trip; focus moved to the new child.
        expect(page.locator("#children-0-given_name")).to_have_value("Ellis")
        expect(page.locator("#police_reference")).to_have_value("CAD2468/20NOV26")
        expect(page.locator("#children-1-given_name")).to_be_focused()
        intake.child(1, "Rowan", "Fictionstone", ("3", "9", "2020"))
        intake.submit()

        expect(page.get_by_text("logged with 2 children")).to_be_visible()
        people = page.get_by_test_id("people")
        expect(people).not_to_contain_text("Ellis")
        expect(people).not_to_contain_text("Fictionstone")
        with app.app_context():
            pseudonyms = [
                p.person.pseudonym
                for p in db.session.query(IncidentPerson)
                .filter_by(role="child")
                .order_by(IncidentPerson.position)
            ]
        assert len(pseudonyms) == 2
        for pseudonym in pseudonyms:
            assert re.fullmatch(r"C-[0-9A-Z]{4}-[0-9A-Z]{4}", pseudonym)
            expect(people).to_contain_text(pseudonym)

        page.get_by_role("link", name="Queue", exact=True).click()
        queue = page.get_by_test_id("queue")
        expect(queue).to_contain_text("CAD2468/20NOV26")
        expect(queue.get_by_role("row").nth(1)).to_contain_text("2")
        queue.get_by_role("link", name="CAD2468/20NOV26").click()
        for pseudonym in pseudonyms:
            expect(page.get_by_test_id("people")).to_contain_text(pseudonym)
    finally:
        context.close()


def test_two_children_by_keyboard_alone_with_an_error_each(
    app: Flask, live_server: str, browser: Browser
) -> None:
    """Every question reached with Tab in order, answered with keys; the second child added in
    place; a conditional question revealed by its answer; an error for each child, named."""
    clock.freeze(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    _, email = user_with(app, Role.DESK_OFFICER)
    context = browser.new_context()
    page = context.new_page()
    try:
        SignInPage(page, live_server, app).sign_in(email, PASSWORD)
        page.goto(f"{live_server}/desk/incidents/new")
        form = IntakePage(page)
        k = page.keyboard
        form.type_into("#police_reference", "CAD1357/20NOV26")
        for prefix, time_ in (("occurred_date", "21:30"), ("received_date", "23:05")):
            for part, value in (("day", "20"), ("month", "11"), ("year", "2026")):
                form.type_into(f"#{prefix}-{part}", value)
            form.type_into(f"#{prefix.replace('date', 'time')}", time_)
        form.tab_to("#borough")
        k.type("Lambeth")
        form.type_into("#location", "4 Example Road, London")
        form.type_into("#summary", "Synthetic keyboard journey.")
        form.tab_to("#risk_actuarial")
        k.press("ArrowDown")  # Standard -> Medium
        expect(page.locator("#risk_actuarial-2")).to_be_checked()
        form.tab_to("#risk_raised-2")  # "No" is chosen (Tab lands on it): the raise stays hidden
        expect(page.locator("#risk_rationale")).to_be_hidden()
        form.tab_to("#adults-0-role")
        k.press("Space")
        form.type_into("#adults-0-given_name", "Harley")
        form.type_into("#adults-0-family_name", "Keyworth")
        for i, (given, family, dob) in enumerate(
            (("Ellis", "", ("14", "2", "2015")), ("Rowan", "Keyworth", ("31", "2", "2016")))
        ):
            if i == 1:
                form.tab_to("button[data-add-person=child]")
                k.press("Enter")  # added in place: focus moves into child 2
                expect(page.locator("#children-1-given_name")).to_be_focused()
                expect(page.locator("#household-status")).to_have_text("Child 2 added")
            c = f"#children-{i}"
            form.type_into(f"{c}-given_name", given)
            if family:
                form.type_into(f"{c}-family_name", family)
            for part, value in zip(("day", "month", "year"), dob, strict=True):
                form.type_into(f"{c}-date_of_birth-{part}", value)
            form.tab_to(f"{c}-lives_there")
            k.press("Space")  # Yes: lives at the incident address
            expect(page.locator(f"{c}-address")).to_be_hidden()
            form.tab_to(f"{c}-present")
            k.press("Space")  # Yes reveals "where was the child"
            form.type_into(f"{c}-present_where", "the hallway")
            form.tab_to(f"{c}-spoken_to")
            k.press("ArrowDown")  # No
            form.tab_to(f"{c}-known_to_social_care")
            k.press("ArrowDown")
            k.press("ArrowDown")  # Not known
        form.tab_to(
            "button.govuk-button:not(.govuk-button--secondary):not(.govuk-button--warning):not([tabindex='-1'])"
        )
        k.press("Enter")

        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Child 1: ")
        expect(summary).to_contain_text("Child 2: ")
        expect(page.locator("#children-1-given_name")).to_have_value("Rowan")  # nothing lost
        form.tab_to(".govuk-error-summary a[href='#children-0-family_name']")
        k.press("Enter")
        expect(page.locator("#children-0-family_name")).to_be_focused()
        k.type("Keyworth")
        form.tab_to("#children-1-date_of_birth-day")
        k.press("Control+A")
        k.type("28")
        page.locator("#children-1-date_of_birth-day").press("Enter")  # Enter submits: "save"
        expect(page.get_by_text("logged with 2 children")).to_be_visible()
    finally:
        context.close()
