"""A supervisor picks a quarter on the reports page, sees the weekly chart with its table, and
downloads the table as CSV: the file says what the page says."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from referrals import clock
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.referral import Referral
from referrals.models.user import Role
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from tests.browser.pages import SignInPage
from tests.factories import LAMBETH, PASSWORD, front_doors, log_incident, make_user, send_incident

pytestmark = pytest.mark.browser
SENT = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)  # a Monday in this quarter


def test_supervisor_reads_a_quarter_and_downloads_its_weeks(
    app: Flask, live_server: str, browser: Browser
) -> None:
    clock.freeze(SENT)
    front_doors(app, LAMBETH)
    ids = send_incident(app, log_incident(app, police_reference="CAD1357/05OCT26"))
    clock.freeze(SENT + timedelta(hours=3))
    with app.app_context():
        referral = db.session.get(Referral, ids[0])
        assert referral is not None
        partner = Actor(user_id=None, label="p", role=Role.PARTNER, agency_id=referral.agency_id)
        lifecycle.acknowledge(partner, ids[0])
        supervisor = make_user(role=Role.SUPERVISOR).email
        db.session.commit()
    clock.freeze(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert tasks.count_reports(app) > 0

    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        SignInPage(page, live_server, app).sign_in(supervisor, PASSWORD)
        page.get_by_role("link", name="Reports", exact=True).click()
        page.get_by_label("This quarter").check()
        page.get_by_role("button", name="Show the figures").click()
        expect(page.get_by_test_id("period")).to_have_text("1 October 2026 to 24 November 2026")
        chart = page.get_by_role("img", name="Acknowledged on time, week by week")
        expect(chart).to_be_visible()
        weeks = page.get_by_test_id("table-weeks")
        first_week = weeks.get_by_role("row", name="w/c 5 Oct 2026")
        expect(first_week).to_contain_text("100%")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="CSV (Week by week)").click()
        download = download_info.value
        assert download.suggested_filename.startswith("report-weeks-2026-10-01-2026-11-24")
        path = download.path()
        assert path is not None
        with open(path, encoding="utf-8-sig") as handle:
            rows = list(csv.reader(io.StringIO(handle.read())))
        assert rows[0][:3] == ["Week beginning", "Sent", "Acknowledged on time"]
        assert rows[1][:3] == ["w/c 5 Oct 2026", str(len(ids)), "1"]
    finally:
        context.close()
