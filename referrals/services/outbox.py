"""The outbox relay's claims and marks. Sending itself happens between a claim and a mark,
outside any transaction (see :mod:`referrals.jobs.tasks`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.outbox import OutboxMessage, OutboxState
from referrals.services import notify

BACKOFF_BASE_SECONDS = 30
SCRUBBED = "(Sent. The single-use link it held is not kept.)"


def _ready(now: datetime, lease: timedelta) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now),
        # A relay that died after claiming (perhaps after sending): take the row back.
        and_(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.claimed_at < now - lease),
    )


def claim(worker: str, now: datetime, lease: timedelta, limit: int = 20) -> list[int]:
    """Claim up to ``limit`` messages for this worker (compare-and-set per row)."""
    candidates = db.session.scalars(
        select(OutboxMessage.id).where(_ready(now, lease)).order_by(OutboxMessage.id).limit(limit)
    ).all()
    claimed = []
    for message_id in candidates:
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _ready(now, lease))
            .values(
                state=OutboxState.SENDING,
                claimed_at=now,
                claimed_by=worker,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    return claimed


def mark_sent(message_id: int, worker: str, now: datetime) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
        .values(state=OutboxState.SENT, sent_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.state == OutboxState.SENT,
            OutboxMessage.template.in_(notify.CARRIES_A_SECRET),
        )
        .values(body=SCRUBBED)
        .execution_options(synchronize_session=False)
    )


def mark_failed_attempt(
    message_id: int, worker: str, now: datetime, error: str, max_attempts: int
) -> OutboxState:
    """Back off exponentially; after the last attempt the message is failed for good."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.claimed_by != worker:
        return OutboxState.PENDING
    if message.attempts >= max_attempts:
        message.state = OutboxState.FAILED
    else:
        message.state = OutboxState.PENDING
        message.next_attempt_at = now + timedelta(
            seconds=BACKOFF_BASE_SECONDS * 2 ** (message.attempts - 1)
        )
    message.last_error = error[: text_limit(OutboxMessage.last_error)]
    db.session.flush()
    return message.state


def resend(message_id: int, now: datetime) -> OutboxMessage | None:
    """A supervisor's "try again" on a failed message: a new attempt, same Message-ID."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.state is not OutboxState.FAILED:
        return None
    message.state, message.attempts, message.next_attempt_at = OutboxState.PENDING, 0, now
    db.session.flush()
    return message
