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
