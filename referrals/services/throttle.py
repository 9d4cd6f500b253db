"""Throttling guesses, kept in the database so every web worker and host counts the same ones:
at most 10 failed passwords per account and 30 per address in 5 minutes, 10 failed second-factor
codes per account, 5 password-reset requests per address an hour (and 3 e-mails to one
account). Never a global lockout: one
account or one address waits, everyone else carries on. A refusal says when to try again."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text

from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.user import Attempt
from referrals.services.errors import DomainError


@dataclass(frozen=True)
class Limit:
    scope: str
    most: int
    window: timedelta


PASSWORD_PER_ACCOUNT = Limit("account", 10, timedelta(minutes=5))
PASSWORD_PER_ADDRESS = Limit("address", 30, timedelta(minutes=5))
FACTOR_PER_ACCOUNT = Limit("factor", 10, timedelta(minutes=5))
RESET_PER_ADDRESS = Limit("reset", 5, timedelta(hours=1))
RESET_PER_ACCOUNT = Limit("reset_account", 3, timedelta(hours=1))


class Throttled(DomainError):
    """Too many attempts: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"Too many attempts. Wait {minutes} minute{'s' if minutes != 1 else ''} and try again."
        )
        self.retry_after = retry_after


def _key(key: str) -> str:
    return key.strip().lower()[: text_limit(Attempt.key)]


def _hold(limit: Limit, key: str) -> None:
    """Hold this key until the transaction ends, so that guesses in parallel are counted one
    after another and a burst cannot slip past the limit (PostgreSQL: an advisory lock per key;
    SQLite's transactions already begin IMMEDIATE, one writer at a time)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        digest = hashlib.sha256(f"throttle|{limit.scope}|{key}".encode()).digest()
        lock_id = int.from_bytes(digest[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def check(limit: Limit, key: str, now: datetime) -> None:
    """Raise :class:`Throttled` if ``key`` has used up ``limit`` in the window before ``now``.
    The key stays held until the transaction ends (see :func:`_hold`)."""
    _hold(limit, _key(key))
    since = now - limit.window
    count, oldest = db.session.execute(
        select(func.count(), func.min(Attempt.at)).where(
            Attempt.scope == limit.scope, Attempt.key == _key(key), Attempt.at > since
        )
    ).one()
    if int(count or 0) < limit.most:
        return
    if isinstance(oldest, str):  # an aggregate bypasses the column type on SQLite
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    raise Throttled(max(1, math.ceil((oldest + limit.window - now).total_seconds())))


def record(limit: Limit, key: str, now: datetime) -> None:
    """Count one attempt, and forget this key's attempts that have left the window."""
    db.session.execute(
        delete(Attempt).where(
            Attempt.scope == limit.scope,
            Attempt.key == _key(key),
            Attempt.at <= now - limit.window,
        )
    )
    db.session.add(Attempt(scope=limit.scope, key=_key(key), at=now))
