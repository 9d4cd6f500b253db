"""Second factors: an authenticator app (TOTP, its secret sealed in the identity store), a
security key or passkey (WebAuthn), and ten single-use recovery codes, stored hashed.

A TOTP code is accepted once: each factor keeps the last time step it accepted, and a code is
taken only for a later step, by a compare-and-set, so a code replayed within its window (or a
race of two requests with it) is refused. A user may add factors and remove one, never the last;
an administrator may reset them all, which ends the user's sessions. Each change is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import pyotp
import segno
from sqlalchemy import delete, func, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.audit import AuditKind
from referrals.models.user import FactorKind, RecoveryCode, User, UserFactor, UserSession
from referrals.services import audit, identity_store
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput, NotFound

ISSUER = "Referral desk"
RECOVERY_CODES = 10
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off a sheet of paper


class FactorRefused(DomainError):
    """The code or the key was not accepted."""


def has_factor(user_id: int) -> bool:
    return bool(
        db.session.scalar(select(func.count(UserFactor.id)).where(UserFactor.user_id == user_id))
    )


def factors_of(user_id: int) -> list[UserFactor]:
    return list(
        db.session.scalars(
            select(UserFactor).where(UserFactor.user_id == user_id).order_by(UserFactor.id)
        )
    )


# --- authenticator apps ------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpOffer:
    """What the enrolment page shows: the secret as text, and as a QR code (SVG, drawn here)."""

    secret: str
    uri: str
    svg: str


def offer_totp(session: UserSession, user: User) -> TotpOffer:
    """A new secret for this browser's enrolment, kept sealed on its session until confirmed."""
    secret = pyotp.random_base32()
    drop_offer(session)
    session.pending_secret_sealed_id = identity_store.seal("factor.totp_pending", secret).id
    return _offer(secret, user)


def current_offer(session: UserSession, user: User) -> TotpOffer | None:
    secret = identity_store.unseal_id(session.pending_secret_sealed_id)
    return _offer(secret, user) if secret else None


def _offer(secret: str, user: User) -> TotpOffer:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, omitsize=True, light="#fff", title="QR code for your authenticator app"
    )
    return TotpOffer(secret=secret, uri=uri, svg=svg)


def _step_matching(secret: str, code: str, now: datetime, after: int) -> int | None:
    """The time step (30 s) within one step of now whose code this is, if later than
    ``after``; None otherwise."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def confirm_totp(
    actor: Actor, session: UserSession, user: User, code: str, label: str
) -> UserFactor:
    """Enrol the app whose secret was offered, once it shows a correct code."""
    secret = identity_store.unseal_id(session.pending_secret_sealed_id)
    if not secret:
        raise FactorRefused("Start again: scan the new QR code")
    step = _step_matching(secret, code, clock.now(), after=0)
    if step is None:
        raise InvalidInput({"code": "That code is not right: enter the 6 digits the app shows now"})
    drop_offer(session)
    return add_totp(actor, user.id, secret, label, last_step=step)


def drop_offer(session: UserSession) -> None:
    pending, session.pending_secret_sealed_id = session.pending_secret_sealed_id, None
    if pending:
        db.session.flush()
        identity_store.forget([pending])


def add_totp(
    actor: Actor, user_id: int, secret: str, label: str = "", *, last_step: int = 0
) -> UserFactor:
    """Enrol an authenticator app with this secret (after :func:`confirm_totp` has seen a code
    from it; or a demo user's published synthetic secret)."""
    factor = UserFactor(
        user_id=user_id,
        kind=FactorKind.TOTP,
        label=(label.strip() or "Authenticator app")[: text_limit(UserFactor.label)],
        secret_sealed_id=identity_store.seal("factor.totp", secret).id,
        last_step=last_step,
        sign_count=0,
    )
    db.session.add(factor)
    db.session.flush()
    _audited(actor, "factor.enrolled", user_id, factor)
    return factor


def verify_totp(user: User, code: str) -> bool:
    """A code from one of the user's apps, accepted once (a later step than the last taken)."""
    now = clock.now()
    for factor in factors_of(user.id):
        if factor.kind is not FactorKind.TOTP:
            continue
        secret = identity_store.unseal_id(factor.secret_sealed_id)
        step = _step_matching(secret or "", code, now, after=factor.last_step)
        if step is None:
            continue
        taken = db.session.execute(
            update(UserFactor)
            .where(UserFactor.id == factor.id, UserFactor.last_step < step)
            .values(last_step=step, last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
    return False


# --- recovery codes ----------------------------------------------------------------------------


def recovery_hash(code: str) -> str:
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(f"recovery|{normalised}".encode()).hexdigest()


def new_recovery_codes(actor: Actor, user_id: int) -> list[str]:
    """Ten fresh codes (the old ones stop working): shown once, stored hashed. Each has 50 bits
    of randomness, so a plain hash is enough: guessing is throttled, and enumeration hopeless."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [
        "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=recovery_hash(c)) for c in codes)
    audit.record(actor, AuditKind.SECURITY, "factor.recovery_codes_made", "user", user_id)
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return bool(used.rowcount == 1)  # type: ignore[attr-defined]


def recovery_codes_left(user_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


# --- security keys and passkeys (WebAuthn) -----------------------------------------------------


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser is talking to: the host (the key is bound to it) and the full origin."""

    id: str
    origin: str

    @classmethod
    def of(cls, base_url: str) -> RelyingParty:
        """The desk's own address (``BASE_URL``): a key works only there."""
        parts = urlsplit(base_url)
        return cls(id=parts.hostname or "localhost", origin=f"{parts.scheme}://{parts.netloc}")


def registration_options(session: UserSession, user: User, party: RelyingParty) -> str:
    options = generate_registration_options(
        rp_id=party.id,
        rp_name=ISSUER,
        user_id=f"user-{user.id}".encode(),
        user_name=user.email,
        user_display_name=user.display_name,
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(f.credential_id))
            for f in factors_of(user.id)
            if f.credential_id
        ],
    )
    session.challenge = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def finish_registration(
    actor: Actor, session: UserSession, user: User, credential: str, party: RelyingParty, label: str
) -> UserFactor:
    challenge, session.challenge = session.challenge, None
    if not challenge:
        raise FactorRefused("Start again: the request for a key had expired")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=party.id,
            expected_origin=party.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise FactorRefused(f"The key could not be registered: {exc}") from exc
    factor = UserFactor(
        user_id=user.id,
        kind=FactorKind.WEBAUTHN,
        label=(label.strip() or "Security key")[: text_limit(UserFactor.label)],
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        last_step=0,
    )
    db.session.add(factor)
    db.session.flush()
    _audited(actor, "factor.enrolled", user.id, factor)
    return factor


def authentication_options(session: UserSession, user: User, party: RelyingParty) -> str:
    keys = [f for f in factors_of(user.id) if f.credential_id]
    if not keys:
        raise FactorRefused("You have no security key: use your authenticator app")
    options = generate_authentication_options(
        rp_id=party.id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(k.credential_id or ""))
            for k in keys
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    session.challenge = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def verify_key(session: UserSession, user: User, credential: str, party: RelyingParty) -> bool:
    challenge, session.challenge = session.challenge, None
    try:
        parsed = json.loads(credential)
        raw_id = str(parsed.get("rawId") or parsed.get("id"))
    except (ValueError, AttributeError):
        return False
    key = db.session.scalar(
        select(UserFactor).where(UserFactor.user_id == user.id, UserFactor.credential_id == raw_id)
    )
    if key is None or not challenge or key.public_key is None:
        return False
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=party.id,
            expected_origin=party.origin,
            credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return False
    key.sign_count, key.last_used_at = verified.new_sign_count, clock.now()
    return True


# --- keeping them ------------------------------------------------------------------------------


def remove(actor: Actor, user_id: int, factor_id: int) -> None:
    """Remove one of the user's factors; never the last (a user always has one)."""
    mine = factors_of(user_id)
    factor = next((f for f in mine if f.id == factor_id), None)
    if factor is None:
        raise NotFound("No such factor")
    if len(mine) == 1:
        raise DomainError("This is your only second factor: add another before removing it")
    db.session.delete(factor)
    if factor.secret_sealed_id:
        db.session.flush()
        identity_store.forget([factor.secret_sealed_id])
    _audited(actor, "factor.removed", user_id, factor)


def clear_all(user_id: int) -> None:
    """Every factor and recovery code of the user goes (an administrator's reset: the caller
    ends their sessions and audits it); they enrol again at their next sign-in."""
    sealed = [f.secret_sealed_id for f in factors_of(user_id) if f.secret_sealed_id]
    db.session.execute(delete(UserFactor).where(UserFactor.user_id == user_id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    identity_store.forget(sealed)


def _audited(actor: Actor, action: str, user_id: int, factor: UserFactor) -> None:
    audit.record(
        actor,
        AuditKind.SECURITY,
        action,
        "user",
        user_id,
        detail={"factor": factor.id, "kind": factor.kind.value},
    )
