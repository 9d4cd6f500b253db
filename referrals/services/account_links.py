"""Single-use, expiring links sent by e-mail: an invitation to set a first password, and a
password reset. Only a hash of the token is stored; a new link makes the user's earlier unused
ones of the same purpose stop working; the e-mail holds the link and its expiry, nothing else.

A reset is asked for by address: the answer is the same whether or not the address is on file,
and requests are throttled per address (and quietly per account, so that nobody can flood one
inbox from many addresses).
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
from referrals.models.user import AccountToken, TokenPurpose, User
from referrals.runtime import runtime
from referrals.security import passwords
from referrals.services import audit, auth, notify, throttle
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput

LIFETIME = {
    TokenPurpose.INVITATION: timedelta(days=7),
    TokenPurpose.PASSWORD_RESET: timedelta(hours=1),
}
PATH = {TokenPurpose.INVITATION: "/invitations/", TokenPurpose.PASSWORD_RESET: "/reset-password/"}
ACCEPTED = {
    TokenPurpose.INVITATION: "invitation.accepted",
    TokenPurpose.PASSWORD_RESET: "password.reset",
}


class LinkRefused(DomainError):
    """The link is unknown, used already or expired."""

    def __init__(self) -> None:
        super().__init__(
            "This link has expired or has been used already. Ask for a new one: an administrator "
            "can send a new invitation, and “Forgotten your password?” on the sign-in page sends "
            "a new reset link."
        )


def _hash(token: str) -> str:
    return hashlib.sha256(f"account-link|{token}".encode()).hexdigest()


def issue(actor: Actor, user: User, purpose: TokenPurpose) -> str:
    """Queue the e-mail with a new link; return the token (for the tests' own use)."""
    now = clock.now()
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    expires = now + LIFETIME[purpose]
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(token),
            created_at=now,
            expires_at=expires,
        )
    )
    link = f"{runtime().settings.base_url}{PATH[purpose]}{token}"
    notify.queue_account(purpose.value, user.email, link, expires)
    audit.record(
        actor,
        AuditKind.SECURITY,
        f"{purpose.value}.sent",
        "user",
        user.id,
        detail={"expires": expires.isoformat()},
    )
    return token


def find(token: str, purpose: TokenPurpose) -> AccountToken:
    """The open link with this token, or :class:`LinkRefused`."""
    row = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _hash(token), AccountToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        raise LinkRefused()
    return row


def redeem(token: str, purpose: TokenPurpose, password: str, confirm: str) -> str | None:
    """Set the password through the link (once). Every session the user had ends. After an
    invitation the browser goes on signed in as far as the second factor (the link proved the
    address); after a reset it signs in afresh. Returns that session's token, if any."""
    row = find(token, purpose)
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        raise LinkRefused()
    try:
        passwords.check_policy(password, email=user.email)
    except passwords.PasswordPolicyError as exc:
        raise InvalidInput({"password": str(exc)}) from exc
    if password != confirm:
        raise InvalidInput({"confirm": "The two passwords are not the same: type it again"})
    now = clock.now()
    taken = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]  # another request used it first
        raise LinkRefused()
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    auth.end_all_sessions(user.id, ACCEPTED[purpose])
    audit.record(Actor.of(user), AuditKind.SECURITY, ACCEPTED[purpose], "user", user.id)
    if purpose is TokenPurpose.INVITATION:
        return auth.start_session(user)
    return None


def request_reset(email: str, address: str) -> None:
    """Send a reset link if the address belongs to an active user; say nothing either way.
    Raises :class:`throttle.Throttled` when this address has asked too often."""
    now = clock.now()
    email = auth.normalise_email(email)
    throttle.check(throttle.RESET_PER_ADDRESS, address, now)
    throttle.record(throttle.RESET_PER_ADDRESS, address, now)
    user = db.session.scalar(select(User).where(User.email == email))
    flooded = False
    try:
        throttle.check(throttle.RESET_PER_ACCOUNT, email, now)
    except throttle.Throttled:
        flooded = True
    audit.record(
        Actor(user_id=user.id if user else None, label=email[: text_limit(AuditEvent.actor_label)]),
        AuditKind.SECURITY,
        "password.reset_requested",
        "user",
        user.id if user else "unknown",
        detail={"address": address, "sent": bool(user and user.active and not flooded)},
    )
    if user is None or not user.active or flooded:
        return
    throttle.record(throttle.RESET_PER_ACCOUNT, email, now)
    issue(Actor(user_id=None, label="password reset request"), user, TokenPurpose.PASSWORD_RESET)
