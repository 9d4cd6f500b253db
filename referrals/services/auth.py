"""Sign-in, server-side sessions and password changes.

Sign-in is a pipeline: :func:`check_credentials` (throttled per account and per address), then
:func:`start_session` at the ``factor`` stage (or ``enrol`` for a user with no second factor
yet), then :func:`complete` once the factor is right, which ends the partial session and opens
a full one under a new token. A partial session reaches only the second-factor step and
sign-out, and lasts ten minutes at most.
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
from referrals.models.user import Stage, User, UserSession
from referrals.runtime import runtime
from referrals.security import passwords
from referrals.security.principal import Principal
from referrals.services import audit, factors, throttle
from referrals.services.actors import Actor
from referrals.services.errors import DomainError

TOUCH_EVERY = timedelta(minutes=1)
PARTIAL_LIFETIME = timedelta(minutes=10)


class SignInRefused(DomainError):
    """One message for an unknown e-mail, a wrong password and a disabled account."""

    def __init__(self) -> None:
        super().__init__("Enter a correct e-mail address and password")


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _refused(user: User | None, email: str, action: str, address: str, **detail: object) -> None:
    audit.record(
        Actor(user_id=user.id if user else None, label=email[: text_limit(AuditEvent.actor_label)]),
        AuditKind.SECURITY,
        action,
        "user",
        user.id if user else "unknown",
        detail={**({"address": address} if address else {}), **detail} or None,
    )


def _within(
    limits: list[tuple[throttle.Limit, str]], email: str, user: User | None, address: str
) -> None:
    """Refuse (audited, with when to try again) if any of these limits is used up."""
    now = clock.now()
    for limit, key in limits:
        try:
            throttle.check(limit, key, now)
        except throttle.Throttled as stop:
            _refused(user, email, "sign_in.throttled", address, limit=limit.scope)
            raise stop


def check_credentials(email: str, password: str, address: str = "") -> User:
    """The user these credentials are right for. Raises :class:`throttle.Throttled` when the
    account or the address has had too many failures lately (checked before the password, so a
    right password does not get through either), or :class:`SignInRefused` with one message
    for an unknown e-mail, a wrong password and a disabled account (an unknown e-mail costs
    one argon2 verification too, so the answer takes as long)."""
    email = normalise_email(email)
    limits = [(throttle.PASSWORD_PER_ACCOUNT, email)]
    if address:
        limits.append((throttle.PASSWORD_PER_ADDRESS, address))
    user = db.session.scalar(select(User).where(User.email == email))
    _within(limits, email, user, address)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        now = clock.now()
        for limit, key in limits:
            throttle.record(limit, key, now)
        _refused(user, email, "sign_in.refused", address)
        raise SignInRefused()
    return user


def start_session(user: User, stage: Stage | None = None) -> str:
    """Open a server-side session and return the random token for the cookie. After a correct
    password the session waits for the second factor (or for one to be enrolled)."""
    if stage is None:
        stage = Stage.FACTOR if factors.has_factor(user.id) else Stage.ENROL
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        UserSession(
            id=_token_id(token), user_id=user.id, created_at=now, last_seen_at=now, stage=stage
        )
    )
    action = "sign_in" if stage is Stage.FULL else "sign_in.password_accepted"
    audit.record(Actor.of(user), AuditKind.SECURITY, action, "user", user.id)
    if stage is Stage.FULL:
        user.last_sign_in_at = now
    return token


def complete(principal: Principal, how: str) -> str:
    """The second factor was right (``how``: which kind): the partial session ends and a full
    one opens under a new token, so the session id rotates at sign-in."""
    principal.session.ended_at = clock.now()
    principal.session.end_reason = "factor_passed"
    factors.drop_offer(principal.session)
    audit.record(
        Actor.of(principal.user),
        AuditKind.SECURITY,
        "sign_in.factor_accepted",
        "user",
        principal.id,
        detail={"factor": how},
    )
    return start_session(principal.user, Stage.FULL)


def second_factor(principal: Principal, code: str, address: str = "") -> str:
    """An authenticator code or a recovery code; the new full session's token when it is
    right. Raises :class:`throttle.Throttled` or :class:`factors.FactorRefused`."""
    user = principal.user
    _within([(throttle.FACTOR_PER_ACCOUNT, user.email)], user.email, user, address)
    if factors.verify_totp(user, code):
        return complete(principal, "totp")
    if len(code.strip()) > 6 and factors.use_recovery_code(user, code):
        return complete(principal, "recovery_code")
    _factor_refused(principal, address, "code")
    raise factors.FactorRefused(
        "That code is not right, or was used already: enter the code your app shows now"
    )


def key_factor(
    principal: Principal, credential: str, party: factors.RelyingParty, address: str = ""
) -> str:
    """A security key's answer to this session's challenge; as :func:`second_factor`."""
    user = principal.user
    _within([(throttle.FACTOR_PER_ACCOUNT, user.email)], user.email, user, address)
    if factors.verify_key(principal.session, user, credential, party):
        return complete(principal, "webauthn")
    _factor_refused(principal, address, "key")
    raise factors.FactorRefused(
        "The security key was not accepted. Try again, or enter a code from your app."
    )


def _factor_refused(principal: Principal, address: str, how: str) -> None:
    throttle.record(throttle.FACTOR_PER_ACCOUNT, principal.user.email, clock.now())
    _refused(principal.user, principal.user.email, "sign_in.factor_refused", address, factor=how)


def load_principal(token: str) -> Principal | None:
    """The principal for a cookie's token, or None if the session is ended, idle or too old."""
    row = db.session.get(UserSession, _token_id(token))
    if row is None or row.ended_at is not None or not row.user.active:
        return None
    settings = runtime().settings
    now = clock.now()
    if row.stage is not Stage.FULL and now - row.created_at > PARTIAL_LIFETIME:
        return None
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
    factors.drop_offer(principal.session)
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
    return start_session(user, Stage.FULL)  # this browser has shown both factors already
