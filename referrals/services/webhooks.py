"""Webhook events for partner API clients: written to the outbox in the same transaction as the
change that causes them (a rolled-back change sends nothing), delivered by the scheduler's relay
with the outbox's retries and backoff, then failed and shown to administrators.

A body holds the event, its stable id, ids and a link, never case content: the receiver fetches
the referral through the API, which records the disclosure. Each delivery is signed::

    Webhook-Id: <event id>            (the same on every retry: receivers drop repeats)
    Webhook-Timestamp: <unix seconds>
    Webhook-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.api_client import ApiClient, ApiClientKind
from referrals.models.outbox import WEBHOOK_TEMPLATE, OutboxMessage, OutboxState
from referrals.models.referral import Referral, reference_for
from referrals.runtime import runtime
from referrals.services import identity_store

TIMEOUT_SECONDS = 10
SECRET_PURPOSE = "api.webhook_secret"  # noqa: S105 - the sealing purpose, not a secret


class Event(StrEnum):
    REFERRAL_CREATED = "referral.created"
    REFERRAL_UPDATED = "referral.updated"
    REFERRAL_WITHDRAWN = "referral.withdrawn"
    MESSAGE_CREATED = "message.created"


class DeliveryFailed(OSError):
    """The receiver did not answer 2xx."""


def _receivers(agency_id: int, now: datetime) -> list[ApiClient]:
    clients = db.session.scalars(
        select(ApiClient).where(
            ApiClient.agency_id == agency_id,
            ApiClient.kind == ApiClientKind.PARTNER,
            ApiClient.webhook_url.is_not(None),
            ApiClient.revoked_at.is_(None),
        )
    ).all()
    return [c for c in clients if c.active(now)]


def referral_url(number: str) -> str:
    """Where an API client fetches a referral (the link in each event and in each list row)."""
    return f"{runtime().settings.base_url}/api/v1/referrals/{number}"


def emit(event: Event, referral: Referral, *, message_id: int | None = None) -> None:
    """Queue ``event`` about ``referral`` for every partner client of its agency with a URL."""
    emit_many(event, [referral], message_id=message_id)


def emit_many(
    event: Event, referrals: Iterable[Referral], *, message_id: int | None = None
) -> None:
    """``emit`` for several referrals, reading each agency's receivers once."""
    now = clock.now()
    receivers: dict[int, list[ApiClient]] = {}
    for referral in referrals:
        if referral.agency_id not in receivers:
            receivers[referral.agency_id] = _receivers(referral.agency_id, now)
        for client in receivers[referral.agency_id]:
            event_id = str(uuid.uuid4())
            number = reference_for(referral.id)
            body: dict[str, object] = {
                "id": event_id,
                "event": event.value,
                "occurred_at": now.isoformat(),
                "referral": number,
                "link": referral_url(number),
            }
            if message_id is not None:
                body["message_id"] = message_id
            db.session.add(
                OutboxMessage(
                    template=WEBHOOK_TEMPLATE,
                    to_address=f"api-client:{client.id}",
                    subject=event.value,
                    body=json.dumps(body, separators=(",", ":"), sort_keys=True),
                    message_id=event_id,
                    referral_id=referral.id,
                    api_client_id=client.id,
                    state=OutboxState.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                )
            )


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (the README shows the same in a few lines)."""
    if not timestamp.isdigit():
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def deliver(message: OutboxMessage) -> None:
    """POST one event to its client's URL now. Raises :class:`DeliveryFailed` (an ``OSError``)
    unless the receiver answers 2xx; a client revoked or without a URL since is a failure too."""
    client = db.session.get(ApiClient, message.api_client_id) if message.api_client_id else None
    if client is None or not client.webhook_url or not client.active(clock.now()):
        raise DeliveryFailed("the client was revoked or has no webhook URL now")
    secret = identity_store.unseal_id(client.webhook_secret_sealed_id) or ""
    body = message.body.encode()
    timestamp = int(clock.now().timestamp())
    request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked when set
        client.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "referral-desk-webhooks",
            "Webhook-Id": message.message_id,
            "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as refused:
        raise DeliveryFailed(f"the receiver answered {refused.code}") from refused
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the receiver answered {status}")
