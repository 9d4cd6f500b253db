"""Exports of the desk queue and a partner's inbox (``referrals/services/exports.py``): every
page of the list, only the partner's own agency, cells defused, one audit event with the filter
and the row count. Both engines, CSV and XLSX."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent
from referrals.models.referral import Referral
from referrals.models.user import Role
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from tests.factories import (
    LAMBETH,
    SOUTHWARK,
    child,
    front_doors,
    load,
    log_incident,
    make_user,
    send_incident,
    sign_in,
    user_with,
)


def _read(response: object, fmt: str) -> list[list[str]]:
    body = response.data  # type: ignore[attr-defined]
    if fmt == "csv":
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [[c or "" for c in row] for row in book.active.iter_rows(values_only=True)]


def _events(app: Flask, action: str) -> list[dict[str, object]]:
    with app.app_context():
        found = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [json.loads(e.detail or "{}") for e in found]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_partner_exports_its_own_inbox_only(app: Flask, fmt: str) -> None:
    doors = front_doors(app, LAMBETH, SOUTHWARK)
    for _ in range(3):
        send_incident(app, log_incident(app, children=[child(borough_code=LAMBETH)]))
    foreign = send_incident(
        app, log_incident(app, borough_code=SOUTHWARK, children=[child(borough_code=SOUTHWARK)])
    )
    with app.app_context():
        agency = load(Agency, doors[f"csc-{LAMBETH}"])
        email = make_user(role=Role.PARTNER, agency=agency).email
        db.session.commit()
        ours = {
            r.reference
            for r in db.session.scalars(select(Referral).where(Referral.agency_id == agency.id))
        }
        theirs = {
            r.reference
            for r in db.session.scalars(select(Referral).where(Referral.id.in_(foreign)))
            if r.agency_id != agency.id
        }
    browser = FlaskClient(app, use_cookies=True)
    sign_in(browser, email)
    response = browser.get(f"/portal/export.{fmt}?tab=new")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _read(response, fmt)
    assert rows[0][:2] == ["Child", "Referral"]
    assert {r[1] for r in rows[1:]} == ours and len(ours) == 3
    assert not theirs & {cell for row in rows for cell in row}
    (event,) = _events(app, "export.partner_inbox")
    assert event["rows"] == 3 and event["format"] == fmt
    assert event["filters"] == {"agency": agency.code, "tab": "new"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_desk_exports_every_page_of_its_filtered_queue(app: Flask, fmt: str) -> None:
    front_doors(app, LAMBETH, SOUTHWARK)
    lambeth = [log_incident(app, borough_code=LAMBETH) for _ in range(30)]  # > one page of 25
    log_incident(app, borough_code=SOUTHWARK, children=[child(borough_code=SOUTHWARK)])
    send_incident(app, lambeth[0])
    browser = FlaskClient(app, use_cookies=True)
    sign_in(browser, user_with(app, Role.DESK_OFFICER)[1])
    page = browser.get(f"/desk/?borough={LAMBETH}")
    assert f"export.{fmt}?borough={LAMBETH}" in page.text
    response = browser.get(f"/desk/export.{fmt}?borough={LAMBETH}")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="desk-queue-{LAMBETH}-')
    assert disposition.endswith(f'.{fmt}"')
    rows = _read(response, fmt)
    assert len(rows) == 31 and rows[0][0] == "Police reference"
    assert {r[2] for r in rows[1:]} == {"Lambeth"}
    sent = [r for r in rows[1:] if r[8] not in ("", "0")]
    assert len(sent) == 1  # the one incident sent has its referrals counted
    (event,) = _events(app, "export.desk_queue")
    assert event == {"format": fmt, "filters": {"borough": LAMBETH}, "rows": 30}


def test_only_the_desk_exports_the_queue_and_only_partners_their_inbox(app: Flask) -> None:
    partner = FlaskClient(app, use_cookies=True)
    sign_in(partner, user_with(app, Role.PARTNER, agency_kind=AgencyKind.SCHOOL)[1])
    assert partner.get("/desk/export.csv").status_code == 403
    desk = FlaskClient(app, use_cookies=True)
    sign_in(desk, user_with(app, Role.DESK_OFFICER)[1])
    assert desk.get("/portal/export.csv").status_code == 403
    assert desk.get("/desk/export.pdf").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_board_and_needs_the_desk_export_what_they_list(app: Flask, fmt: str) -> None:
    front_doors(app, LAMBETH)
    sent = send_incident(app, log_incident(app, children=[child(borough_code=LAMBETH)]))
    with app.app_context():
        first = load(Referral, sent[0])
        partner = Actor(
            user_id=None, label="partner:tests", role=Role.PARTNER, agency_id=first.agency_id
        )
        lifecycle.post_message(partner, first, "Synthetic question?", from_desk=False)
        db.session.commit()
        number = first.reference
    clock.freeze(clock.now() + timedelta(days=10))  # every acknowledgement is overdue now
    supervisor = FlaskClient(app, use_cookies=True)
    sign_in(supervisor, user_with(app, Role.SUPERVISOR)[1])
    assert f"export.{fmt}" in supervisor.get("/supervisor/").text
    rows = _read(supervisor.get(f"/supervisor/export.{fmt}"), fmt)
    assert rows[0][0] == "Referral" and len(rows) == len(sent) + 1
    assert {r[5] for r in rows[1:]} == {"Overdue"}
    assert _events(app, "export.overdue_board")[0]["rows"] == len(sent)

    questions = _read(supervisor.get(f"/desk/needs/export.{fmt}?section=questions"), fmt)
    assert [r[0] for r in questions[1:]] == [number]
    assert _events(app, "export.needs_the_desk")[0] == {
        "format": fmt,
        "filters": {"section": "questions"},
        "rows": 1,
    }
