"""The supervisor's board: overdue and due soon, oldest first, filters, paused with reasons,
failed e-mails; chase, re-send, re-assign and extend, each audited (figures: test_reports.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent
from referrals.models.incident import RiskGrade
from referrals.models.outbox import OutboxMessage, OutboxState
from referrals.models.referral import Referral
from referrals.models.user import Role
from referrals.services import referral_lifecycle as lifecycle
from tests.factories import (
    LAMBETH,
    SOUTHWARK,
    SYSTEM_DESK,
    front_doors,
    log_incident,
    send_incident,
    sign_in,
    user_with,
)

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def board(app: Flask) -> tuple[FlaskClient, str, list[int]]:
    """Three referrals sent Monday 10:00 (due Tuesday 10:00); seen on Tuesday at 11:00."""
    clock.freeze(MONDAY)
    front_doors(app, LAMBETH, SOUTHWARK)
    ids = send_incident(app, log_incident(app, police_reference="CADA/23NOV26"))
    ids += send_incident(
        app,
        log_incident(
            app,
            police_reference="CADB/23NOV26",
            borough_code=SOUTHWARK,
            risk_actuarial=RiskGrade.HIGH,
        ),
    )
    clock.freeze(MONDAY + timedelta(hours=20))  # Tuesday 06:00
    ids += send_incident(app, log_incident(app, police_reference="CADC/24NOV26"))
    clock.freeze(MONDAY + timedelta(days=1, hours=1))  # Tuesday 11:00
    _, email = user_with(app, Role.SUPERVISOR)
    client = app.test_client()
    return client, sign_in(client, email), ids


def _refs_on(page: str) -> list[str]:
    import re

    return re.findall(r">(REF-\d{6})</a><br>", page)


def test_board_lists_overdue_oldest_first_with_counts(
    board: tuple[FlaskClient, str, list[int]],
) -> None:
    client, _, ids = board
    page = client.get("/supervisor/")
    assert page.status_code == 200
    # CADA's front door and CADB's front door and MARAC, all due Tuesday 10:00: by id
    assert _refs_on(page.text) == [f"REF-{i:06d}" for i in sorted(ids[:3])]
    assert f"REF-{ids[-1]:06d}" not in page.text  # due Wednesday: not yet on the board
    assert '<span class="govuk-heading-xl">3</span> overdue' in page.text


def test_board_filters(board: tuple[FlaskClient, str, list[int]]) -> None:
    client, _, ids = board
    high = client.get("/supervisor/?risk=high")
    assert set(_refs_on(high.text)) == {f"REF-{i:06d}" for i in ids[1:3]}
    southwark = client.get(f"/supervisor/?borough={SOUTHWARK}")
    assert f"REF-{ids[0]:06d}" not in southwark.text
    nobody = client.get("/supervisor/?owner=999999&agency=abc")
    assert "Nothing is overdue" in nobody.text


def test_an_agency_is_chosen_from_its_row_not_a_list_of_every_agency(
    app: Flask, board: tuple[FlaskClient, str, list[int]]
) -> None:
    """At a million incidents a thousand schools have something overdue: the board offers no
    list of them; each row's agency name filters the board to that agency, keeping the other
    filters, and says which agency it shows with a way back."""
    import re

    client, _, ids = board
    with app.app_context():
        agency_id = db.session.scalar(select(Referral.agency_id).where(Referral.id == ids[1]))
    page = client.get("/supervisor/?risk=high")
    assert 'id="agency"' not in page.text
    link = re.search(rf'href="(/supervisor/\?[^"]*agency={agency_id}[^"]*)"', page.text)
    assert link, "each row's agency links to the board filtered to that agency"
    filtered = client.get(link[1].replace("&amp;", "&"))
    assert "Showing only" in filtered.text and "Show every agency" in filtered.text
    assert _refs_on(filtered.text) == [f"REF-{ids[1]:06d}"]  # high risk and that agency
    unknown = client.get("/supervisor/?agency=999999")
    assert "No agency has that number" in unknown.text


def test_desk_officer_cannot_reach_the_board(app: Flask) -> None:
    _, email = user_with(app, Role.DESK_OFFICER)
    client = app.test_client()
    sign_in(client, email)
    assert client.get("/supervisor/").status_code == 403


def test_chase_resend_reassign_and_extend_are_audited(
    app: Flask, board: tuple[FlaskClient, str, list[int]]
) -> None:
    client, csrf, ids = board
    rid = ids[0]
    base = f"/supervisor/referrals/{rid}"
    chase = f"/desk/referrals/{rid}/chase"
    bad = client.post(chase, data={"csrf_token": csrf})
    assert bad.status_code == 400 and "Choose what happened on the call" in bad.text
    client.post(
        chase,
        data={
            "csrf_token": csrf,
            "chase-outcome": "left_message",
            "chase-note": "Voicemail for the duty manager",
        },
    )
    client.post(f"{base}/resend", data={"csrf_token": csrf})
    desk_id, _ = user_with(app, Role.DESK_OFFICER)
    client.post(f"{base}/reassign", data={"csrf_token": csrf, "reassign-owner_id": str(desk_id)})
    early = client.post(
        f"{base}/extend",
        data={
            "csrf_token": csrf,
            "extend-new_date": ["23", "11", "2026"],
            "extend-new_time": "12:00",
            "extend-reason": "Partner asked for one more day",
        },
    )
    assert early.status_code == 400 and "later than the current due time" in early.text
    done = client.post(
        f"{base}/extend",
        data={
            "csrf_token": csrf,
            "extend-new_date": ["25", "11", "2026"],
            "extend-new_time": "12:00",
            "extend-reason": "Partner asked for one more day",
        },
        follow_redirects=True,
    )
    assert "Deadline extended." in done.text
    with app.app_context():
        actions = set(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.record_id == str(rid)))
        )
        referral = db.session.get(Referral, rid)
        assert referral is not None and referral.owner_id == desk_id
        assert clock.to_london(referral.due_at).strftime("%-d %b %H:%M") == "25 Nov 12:00"
        resent = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.referral_id == rid)
        ).all()
    assert {
        "referral.chased",
        "referral.notice_resent",
        "referral.reassigned",
        "referral.extended",
    } <= actions
    assert len(resent) == 2  # the first notice and the re-send
    history = client.get(f"/desk/referrals/{rid}").text
    for line in (
        "Phone chase: Left a message",
        "Notice re-sent",
        "Re-assigned",
        "Deadline extended",
    ):
        assert line in history
    assert f"REF-{rid:06d}" not in client.get("/supervisor/").text  # no longer overdue


def test_paused_and_failed_e_mail_are_shown(
    app: Flask, board: tuple[FlaskClient, str, list[int]]
) -> None:
    client, csrf, ids = board
    with app.app_context():
        lifecycle.pause(SYSTEM_DESK, ids[0], "Waiting for the PNC result")
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.referral_id == ids[1])
            .values(
                state=OutboxState.FAILED,
                attempts=5,
                last_error="SMTPRecipientsRefused: 550 no such user",
            )
        )
        db.session.commit()
        failed_id = db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.state == OutboxState.FAILED)
        ).first()
    page = client.get("/supervisor/")
    assert "Waiting for the PNC result" in page.text
    assert "550 no such user" in page.text
    client.post(f"/supervisor/outbox/{failed_id}/retry", data={"csrf_token": csrf})
    with app.app_context():
        message = db.session.get(OutboxMessage, failed_id)
        assert message is not None and message.state is OutboxState.PENDING
