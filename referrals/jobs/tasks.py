"""The scheduler's jobs. Each is an entry point: it opens an app context, calls services, and
commits its own units of work, rolling back on any error."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from flask import Flask

from referrals import clock
from referrals.extensions import db
from referrals.faults import crash_point
from referrals.jobs import smtp
from referrals.models.outbox import WEBHOOK_TEMPLATE, OutboxMessage
from referrals.queries import open_work
from referrals.runtime import runtime
from referrals.services import (
    audit_anchor,
    escalation,
    heartbeat,
    outbox,
    report_tallies,
    webhooks,
)

log = logging.getLogger(__name__)
BATCH = 100


def sweep(app: Flask, worker: str) -> int:
    """The overdue sweep: the desk's own deadlines, then the partners' ladders, one transaction
    per batch."""
    taken = 0
    with app.app_context():
        try:
            for batch in (escalation.sweep_desk, escalation.sweep_batch):
                while True:
                    count = batch(worker, clock.now(), BATCH)
                    db.session.commit()
                    taken += count
                    if count == 0:
                        break
        except Exception:
            db.session.rollback()
            log.exception("escalation sweep failed; the next sweep will retry")
            raise
    return taken


def relay(app: Flask, worker: str) -> int:
    """Send what is due in the outbox (e-mails and webhook events). Claim (commit), send, mark
    (commit)."""
    sent = 0
    with app.app_context():
        settings = runtime().settings
        lease = timedelta(seconds=settings.outbox_lease_seconds)
        claimed = outbox.claim(worker, clock.now(), lease)
        db.session.commit()
        for message_id in claimed:
            message = db.session.get(OutboxMessage, message_id)
            if message is None:
                continue
            try:
                if message.template == WEBHOOK_TEMPLATE:
                    webhooks.deliver(message)  # an API client's webhook, not an e-mail
                else:
                    smtp.send(settings.mail, message)
            except (smtplib.SMTPException, OSError) as exc:
                db.session.rollback()
                state = outbox.mark_failed_attempt(
                    message_id,
                    worker,
                    clock.now(),
                    f"{type(exc).__name__}: {exc}",
                    settings.outbox_max_attempts,
                )
                db.session.commit()
                log.warning("e-mail %s not sent (%s): now %s", message_id, exc, state.value)
                continue
            crash_point("relay.after_send")  # a test dies here: sent, not yet marked
            outbox.mark_sent(message_id, worker, clock.now())
            db.session.commit()
            sent += 1
    return sent


def anchor(app: Flask) -> None:
    """A checkpoint of the audit chain's end, outside the database (when it has moved)."""
    with app.app_context():
        try:
            audit_anchor.write()
        finally:
            db.session.rollback()  # it only reads the database


def count_reports(app: Flask) -> int:
    """Bring the reports' daily tallies up to date (one transaction); the days recounted."""
    with app.app_context():
        try:
            days = report_tallies.refresh(clock.now())
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("report tallies not brought up to date; the next run will retry")
            raise
    return days


def compact_open_work(app: Flask) -> int:
    """Fold the open-work counts' +1/-1 rows (one transaction); the rows there were."""
    with app.app_context():
        try:
            rows = open_work.compact()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return rows


def beat(app: Flask, worker: str) -> None:
    with app.app_context():
        heartbeat.beat(worker, clock.now())
        db.session.commit()
