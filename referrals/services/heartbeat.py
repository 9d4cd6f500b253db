"""The scheduler's heartbeat, for the health check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from referrals.extensions import db
from referrals.models.scheduler import SchedulerHeartbeat


def beat(name: str, now: datetime) -> None:
    row = db.session.get(SchedulerHeartbeat, name)
    if row is None:
        db.session.add(SchedulerHeartbeat(name=name, beat_at=now, sweeps=1))
    else:
        row.beat_at, row.sweeps = now, row.sweeps + 1
    db.session.flush()


def age(now: datetime) -> timedelta | None:
    """How long since any scheduler beat; None if none ever has."""
    latest = db.session.scalar(select(func.max(SchedulerHeartbeat.beat_at)))
    if latest is None:
        return None
    if isinstance(latest, str):  # an aggregate bypasses the column type on SQLite
        latest = datetime.fromisoformat(latest)
    if latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return now - latest
