"""A referral passes its deadline; the supervisor sees it on the board and records a phone
call; the partner then acknowledges it (its decision is overdue too, so it stays on the board)
and records a decision, and it leaves the board."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.agency import Agency, AgencyKind
from referrals.models.user import Role
from tests.browser.pages import SignInPage
from tests.factories import LAMBETH, PASSWORD, front_doors, log_incident, make_user, send_incident

pytestmark = pytest.mark.browser


def test_supervisor_chases_an_overdue_referral_then_the_partner_acknowledges(
    app: Flask, live_server: str, browser: Browser
) -> None:
    clock.freeze(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    front_doors(app, LAMBETH)
    with app.app_context():
        door = db.session.scalars(
            select(Agency).where(Agency.kind == AgencyKind.CHILDRENS_SOCIAL_CARE)
        ).one()
        partner = make_user(role=Role.PARTNER, agency=door).email
        supervisor = make_user(role=Role.SUPERVISOR).email
        db.session.commit()
    (rid,) = send_incident(app, log_incident(app, police_reference="CAD8642/23NOV26"))
    clock.freeze(datetime(2026, 11, 24, 11, 0, tzinfo=UTC))  # an hour past the deadline
    assert tasks.sweep(app, "journey") == 1  # the reminder

    contexts = [browser.new_context(), browser.new_context()]
    try:
        page = contexts[0].new_page()
        SignInPage(page, live_server, app).sign_in(supervisor, PASSWORD)
        page.get_by_role("link", name="Overdue board").click()
        expect(page.get_by_test_id("overdue-count")).to_contain_text("1")
        board = page.get_by_test_id("board")
        expect(board).to_contain_text(f"REF-{rid:06d}")
        expect(board).to_contain_text("Reminder sent")
        board.get_by_role("link", name=f"REF-{rid:06d}").click()
        page.get_by_text("Record a phone call to").click()
        page.get_by_label("No answer").check()
        page.get_by_label("Note").fill("Rang the front door twice; will try again at noon")
        page.get_by_role("button", name="Record call").click()
        expect(page.get_by_text("Phone call recorded.")).to_be_visible()
        expect(page.get_by_test_id("history")).to_contain_text("Phone chase: No answer")

        other = contexts[1].new_page()
        SignInPage(other, live_server, app).sign_in(partner, PASSWORD)
        other.get_by_role("link", name="Overdue (1)", exact=True).click()
        other.get_by_test_id("inbox").get_by_role("link").first.click()
        other.get_by_role("button", name="Acknowledge").click()
        expect(other.get_by_text("Referral acknowledged ")).to_be_visible()

        # Acknowledged a day late, the decision (due a working day after sending) is overdue too.
        page.get_by_role("link", name="Overdue board").click()
        expect(page.get_by_test_id("board")).to_contain_text("Decision overdue")
        expect(page.get_by_test_id("overdue-count")).to_contain_text("1 of them for a decision")

        other.get_by_label("Early help").check()
        other.get_by_role("button", name="Record decision").click()
        expect(other.get_by_text("Decision recorded")).to_be_visible()
        page.get_by_role("link", name="Overdue board").click()
        expect(page.get_by_test_id("board-empty")).to_be_visible()
        expect(page.get_by_test_id("overdue-count")).to_contain_text("0")
    finally:
        for context in contexts:
            context.close()
