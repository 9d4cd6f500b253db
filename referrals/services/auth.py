"""Sign-in, server-side sessions and password changes.

Sign-in is a pipeline of steps, each a function: :func:`check_credentials` then
:func:`start_session`. A second factor slots in between (a pending state keyed by the user, no
session until it passes) and throttling wraps :func:`check_credentials`, without reshaping either.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.user import User, UserSession
from referrals.runtime import runtime
from referrals.security import passwords
from referrals.security.principal import Principal
from referrals.services import audit
from referrals.services.actors import Actor
from referrals.services.errors import DomainError

TOUCH_EVERY = timedelta(minutes=1)


class SignInRefused(DomainError):
    """One message for an unknown e-mail, a wrong password and a disabled account."""

    def __init__(self) -> None:
        super().__init__("Enter a correct e-mail address and password")


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_credentials(email: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        audit.record(
            Actor(
                user_id=user.id if user else None,
                label=normalise_email(email)[: text_limit(AuditEvent.actor_label)],
            ),
            AuditKind.SECURITY,
            "sign_in.refused",
            "user",
            user.id if user else "unknown",
        )
        raise SignInRefused()
    return user


def start_session(user: User) -> str:
    """Open a server-side session and return the random token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        UserSession(id=_token_id(token), user_id=user.id, created_at=now, last_seen_at=now)
    )
    user.last_sign_in_at = now
    audit.record(Actor.of(user), AuditKind.SECURITY, "sign_in", "user", user.id)
    return token


def load_principal(token: str) -> Principal | None:
    """The principal for a cookie's token, or None if the session is ended, idle or too old."""
    row = db.session.get(UserSession, _token_id(token))
    if row is None or row.ended_at is not None or not row.user.active:
        return None
    settings = runtime().settings
    now = clock.now()
    if now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        return None
    if now - row.created_at > timedelta(hours=settings.session_absolute_hours):
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return Principal(row.user, row, token)


def end_session(principal: Principal, reason: str = "signed_out") -> None:
    principal.session.ended_at = clock.now()
    principal.session.end_reason = reason
    audit.record(Actor.of(principal.user), AuditKind.SECURITY, "sign_out", "user", principal.id)


def end_all_sessions(user_id: int, reason: str) -> None:
    """End every open session of a user: each copy of each of their cookies stops working."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason)
    )
    db.session.execute(stmt)


def change_password(principal: Principal, current: str, new: str) -> str:
    """Change the password and end every session, this one included; return the token of a
    fresh session for this browser, so that no cookie copied before the change still works."""
    user = principal.user
    if not passwords.verify_password(user.password_hash, current):
        raise DomainError("Your current password is not correct")
    passwords.check_policy(new, email=user.email)
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = clock.now()
    end_all_sessions(user.id, "password_changed")
    audit.record(Actor.of(user), AuditKind.ALTERATION, "password.changed", "user", user.id)
    return start_session(user)
