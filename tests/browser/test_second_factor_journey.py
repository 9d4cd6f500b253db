"""Signing in with a second factor, as people do it: a new user follows the invitation e-mail
from the mail server, sets a password, enrols an authenticator app (the test computes its
codes), signs out, signs in with a code, and is refused the same code again; and a user enrols a
security key (Chromium's virtual authenticator, through the DevTools protocol) and signs in
with it."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.user import Role
from tests.browser.conftest import Desk
from tests.browser.pages import SignInPage
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser
NEW_PASSWORD = "lantern-orchard-velvet-tuesday"


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def _codes_then_continue(page: Page) -> None:
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("button", name="I have kept them: continue").click()


def _slow_key_script(page: Page) -> None:
    """The key script arrives and runs a second and a half late, as on a slow connection."""

    def late(route: Route) -> None:
        body = route.fetch().text()
        route.fulfill(
            body="await new Promise((done) => setTimeout(done, 1500))\n" + body,
            headers={"content-type": "text/javascript"},
        )

    page.route("**/webauthn.mjs", late)


def test_an_invited_user_sets_a_password_enrols_an_app_and_a_code_works_once(
    desk_on_localhost: Desk, browser: Browser, smtp_server: tuple[Any, int]
) -> None:
    app, base = desk_on_localhost.app, desk_on_localhost.base
    inbox = smtp_server[0]
    with app.app_context():
        administrator = make_user(role=Role.ADMINISTRATOR).email
        db.session.commit()
    admin_context, new_context = browser.new_context(), browser.new_context()
    try:
        page = admin_context.new_page()
        SignInPage(page, base, app).sign_in(administrator, PASSWORD)
        page.get_by_role("button", name="Invite a user").click()
        page.get_by_label("E-mail address").fill("robin.newcomer@desk.example")
        page.get_by_label("Name").fill("Robin Newcomer (synthetic)")
        page.get_by_label("Role").select_option(label="Desk officer")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text("Invitation sent to robin.newcomer@desk.example")).to_be_visible()

        assert tasks.relay(app, "journey-relay") == 1  # the scheduler's relay, through SMTP
        (mail,) = inbox.messages
        assert mail["To"] == "robin.newcomer@desk.example"
        link = re.search(rf"{re.escape(base)}/invitations/[\w-]+", mail.get_payload())
        assert link, mail.get_payload()

        me = new_context.new_page()
        me.goto(link[0])
        expect(me.get_by_role("heading", name="Set your password")).to_be_visible()
        me.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        me.get_by_label("Type the new password again").fill(NEW_PASSWORD)
        me.get_by_role("button", name="Save password").click()
        expect(me.get_by_role("heading", name="Set up a second way to sign in")).to_be_visible()
        me.get_by_role("link", name="Use an authenticator app").click()
        expect(me.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
        secret = me.get_by_test_id("totp-secret").inner_text().strip()
        totp = pyotp.TOTP(secret)
        me.get_by_label("Code from the app").fill(totp.now())
        me.get_by_role("button", name="Turn on the app").click()
        _codes_then_continue(me)
        expect(me.get_by_role("heading", name="Queue")).to_be_visible()
        _sign_out(me)

        # The code of the next 30 seconds (a phone a little ahead): a step not yet used.
        code = totp.at(time.time() + 30)
        signing = SignInPage(me, base)
        signing.sign_in("robin.newcomer@desk.example", NEW_PASSWORD, code)
        expect(me.get_by_role("heading", name="Queue")).to_be_visible()
        _sign_out(me)
        signing.sign_in("robin.newcomer@desk.example", NEW_PASSWORD, code)
        expect(me.locator("#code-error")).to_contain_text("was used already")
        expect(me.get_by_role("heading", name="Your second factor")).to_be_visible()
    finally:
        admin_context.close()
        new_context.close()


def test_a_user_enrols_a_security_key_and_signs_in_with_it(
    desk_on_localhost: Desk, browser: Browser
) -> None:
    app, base = desk_on_localhost.app, desk_on_localhost.base
    with app.app_context():
        email = make_user(role=Role.SUPERVISOR, factor=False).email
        db.session.commit()
    context = browser.new_context()
    try:
        page = context.new_page()
        devtools = context.new_cdp_session(page)
        devtools.send("WebAuthn.enable")
        devtools.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "usb",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        signing = SignInPage(page, base)
        signing.password(email, PASSWORD)
        expect(page.get_by_role("heading", name="Set up a second way to sign in")).to_be_visible()
        page.get_by_role("link", name="Use a security key or passkey").click()
        page.get_by_label("Name for this key (optional)").fill("Virtual key")
        page.get_by_role("button", name="Set up my key").click()
        _codes_then_continue(page)
        expect(page.get_by_role("heading", name="Overdue board")).to_be_visible()
        page.get_by_role("link", name="Your account").click()
        expect(page.get_by_role("cell", name="Virtual key")).to_be_visible()
        _sign_out(page)

        _slow_key_script(page)
        signing.password(email, PASSWORD)
        expect(page.get_by_role("heading", name="Your second factor")).to_be_visible()
        page.get_by_role("button", name="Use my security key").click()
        expect(page.get_by_role("heading", name="Overdue board")).to_be_visible()
    finally:
        context.close()
