"""Webhook events (``referrals/services/webhooks.py``) delivered by the relay to a real HTTP
receiver on localhost: signed, with a stable id across retries, nothing for a rolled-back
change, failed and shown to administrators after the last attempt. Both engines.

The e-mails the same changes send go to a real SMTP server on localhost, and the clock starts on a
fixed weekday morning: a partner's e-mail waits for its working hours, so a test that ran on the
wall clock would relay different e-mails on a Saturday than on a Monday."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from config import Settings
from referrals import clock, create_app
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.api_client import ApiClient, ApiClientKind
from referrals.models.outbox import OutboxMessage, OutboxState
from referrals.models.referral import Referral
from referrals.queries import board
from referrals.services import api_clients, referral_lifecycle, webhooks
from tests.factories import (
    LAMBETH,
    SYSTEM_DESK,
    child,
    front_doors,
    log_incident,
    make_api_client,
    send_incident,
)

MONDAY_MORNING = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def app(settings: Settings, smtp_server: tuple[Any, int]) -> Iterator[Flask]:
    """The desk, e-mailing a real SMTP server on localhost, on a Monday morning."""
    clock.freeze(MONDAY_MORNING)
    mail = dataclasses.replace(settings.mail, port=smtp_server[1])
    application = create_app(dataclasses.replace(settings, mail=mail))
    yield application
    with application.app_context():
        db.engine.dispose()


class Receiver:
    """A real HTTP server that answers 500 to the first ``failures`` posts, then 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                failing = len(receiver.received) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def _partner_with_hook(app: Flask, receiver: Receiver) -> tuple[int, str, str, int]:
    doors = front_doors(app, LAMBETH)
    agency = doors[f"csc-{LAMBETH}"]
    _, token = make_api_client(app, ApiClientKind.PARTNER, agency_id=agency)
    answer = app.test_client().put(
        "/api/v1/webhook", json={"url": receiver.url}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return agency, token, answer.get_json()["secret"], doors[f"marac-{LAMBETH}"]


def _relay_until_quiet(app: Flask, rounds: int = 8) -> None:
    """Run the relay, moving the clock past each backoff."""
    for _ in range(rounds):
        tasks.relay(app, "test-relay")
        clock.freeze(clock.now() + timedelta(hours=1))


def test_an_event_is_signed_retried_with_the_same_id_and_links_without_content(
    app: Flask, receiver: Receiver
) -> None:
    agency, token, secret, _ = _partner_with_hook(app, receiver)
    receiver.failures = 3
    incident = log_incident(app, children=[child(borough_code=LAMBETH, given_name="Quill")])
    send_incident(app, incident)
    _relay_until_quiet(app)
    assert len(receiver.received) == 4  # three refusals, then delivered once, never again
    ids = {headers["Webhook-Id"] for headers, _ in receiver.received}
    assert len(ids) == 1
    headers, body = receiver.received[-1]
    event = json.loads(body)
    assert event["event"] == "referral.created" and event["id"] in ids
    assert event["link"].endswith(f"/api/v1/referrals/{event['referral']}")
    assert b"Quill" not in body and set(event) == {"id", "event", "occurred_at", "referral", "link"}
    stamp, signature = headers["Webhook-Timestamp"], headers["Webhook-Signature"]
    assert webhooks.verify(secret, stamp, body, signature)
    assert not webhooks.verify("another-secret", stamp, body, signature)
    assert not webhooks.verify(secret, stamp, body.replace(b"created", b"updated"), signature)
    # The receiver fetches the referral through the API, which records the disclosure.
    opened = app.test_client().get(
        urlsplit(event["link"]).path,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert opened.status_code == 200 and opened.get_json()["number"] == event["referral"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(Referral.agency_id).where(Referral.id == int(event["referral"][4:]))
            )
            == agency
        )


def test_a_rolled_back_change_sends_nothing_and_a_dead_receiver_is_shown_failed(
    app: Flask, receiver: Receiver, smtp_server: tuple[Any, int]
) -> None:
    _agency, _token, _secret, _ = _partner_with_hook(app, receiver)
    incident = log_incident(app, children=[child(borough_code=LAMBETH)])
    referral_ids = send_incident(app, incident)
    _relay_until_quiet(app)
    delivered = len(receiver.received)
    assert delivered >= 1
    with app.app_context():
        referral = db.session.scalars(
            select(Referral).where(Referral.id.in_(referral_ids), Referral.agency_id == _agency)
        ).one()
        partner = api_clients.actor_for(db.session.scalars(select(ApiClient)).one())
        referral_lifecycle.acknowledge(partner, referral.id)
        assert db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.subject == "referral.updated")
        ).all()
        db.session.rollback()
    _relay_until_quiet(app)
    assert len(receiver.received) == delivered

    receiver.failures = 10_000
    incident = log_incident(app, children=[child(borough_code=LAMBETH)])
    send_incident(app, incident)
    _relay_until_quiet(app)
    with app.app_context():
        failed = board.failed_email(webhooks=True)
        assert [m.subject for m in failed] == ["referral.created"]
        assert failed[0].state is OutboxState.FAILED and "500" in (failed[0].last_error or "")
        assert board.failed_email() == []  # supervisors' e-mail list is not for webhooks
    assert smtp_server[0].messages  # the same changes' e-mails went, over SMTP


def test_each_kind_of_event_reaches_the_receiver(app: Flask, receiver: Receiver) -> None:
    agency, token, _secret, _ = _partner_with_hook(app, receiver)
    incident = log_incident(app, children=[child(borough_code=LAMBETH)])
    (referral_id,) = [
        r
        for r in send_incident(app, incident)
        if _agency_of(app, r) == agency  # the front door's referral
    ]
    with app.app_context():
        partner = api_clients.actor_for(db.session.scalars(select(ApiClient)).one())
        found = referral_lifecycle.for_partner(partner, referral_id)
        referral_lifecycle.post_message(partner, found, "Synthetic question?", from_desk=False)
        referral_lifecycle.withdraw(SYSTEM_DESK, referral_id, "Synthetic: sent in error here.")
        db.session.commit()
    _relay_until_quiet(app)
    events = [json.loads(body)["event"] for _headers, body in receiver.received]
    assert events == [
        "referral.created",
        "referral.updated",
        "message.created",
        "referral.withdrawn",
    ]
    withdrawn = json.loads(receiver.received[-1][1])
    gone = app.test_client().get(
        urlsplit(withdrawn["link"]).path, headers={"Authorization": f"Bearer {token}"}
    )
    assert gone.status_code == 404  # withdrawn referrals vanish from the partner, as in the portal


def _agency_of(app: Flask, referral_id: int) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Referral.agency_id).where(Referral.id == referral_id))
