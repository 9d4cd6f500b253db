"""API clients: created by administrators, each with one bearer token shown once and kept only
as a SHA-256 hash (the token is 256 random bits, so a fast hash is enough: there is nothing to
guess). Revocation is immediate: the next call with the token is refused."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select, update

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.api_client import ApiClient, ApiClientKind, ApiScope
from referrals.models.audit import AuditKind
from referrals.models.user import Role
from referrals.runtime import runtime
from referrals.services import audit, free_text, identity_store, webhooks
from referrals.services.actors import Actor
from referrals.services.errors import InvalidInput, NotFound

TOKEN_PREFIX = "rdk_"  # noqa: S105 - how a desk token starts, so scanners can spot leaks


@dataclass(frozen=True)
class Created:
    client: ApiClient
    token: str  # shown once, never stored


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    actor: Actor,
    *,
    name: str,
    kind: ApiClientKind | None,
    agency_id: int | None,
    scopes: Iterable[str],
    expires_at: datetime | None,
    token: str | None = None,
) -> Created:
    """A new client and its token. ``token``: a fixed one, for the synthetic demo only."""
    name = name.strip()
    agency = db.session.get(Agency, agency_id) if agency_id else None
    chosen = {s for s in scopes if s}
    errors = _problems(name, kind, agency, chosen, expires_at)
    if errors or kind is None:
        raise InvalidInput(errors)
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name,
        kind=kind,
        agency_id=agency.id if agency and kind is ApiClientKind.PARTNER else None,
        scopes=" ".join(sorted(chosen)),
        token_prefix=token[:12],
        token_hash=_hash(token),
        expires_at=expires_at,
        created_by_id=actor.user_id,
    )
    db.session.add(client)
    db.session.flush()
    audit.record(
        actor,
        AuditKind.SECURITY,
        "api_client.created",
        "api_client",
        client.id,
        detail={"kind": kind.value, "scopes": client.scopes, "agency_id": client.agency_id},
    )
    return Created(client, token)


def _problems(
    name: str,
    kind: ApiClientKind | None,
    agency: Agency | None,
    chosen: set[str],
    expires_at: datetime | None,
) -> dict[str, str]:
    """What is wrong with a new client, per field."""
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter a name for the client"
    elif free_text.SINGLE_LINE_CONTROL.search(name):
        errors["name"] = "Remove the control characters from the name"
    elif len(name) > text_limit(ApiClient.name):
        errors["name"] = f"The name must be {text_limit(ApiClient.name)} characters or fewer"
    elif db.session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        errors["name"] = "A client with this name exists already"
    if kind is None:
        errors["kind"] = "Choose what kind of client this is"
    if kind is ApiClientKind.PARTNER and (agency is None or agency.kind is AgencyKind.POLICE_DESK):
        errors["agency"] = "Choose the partner agency the client acts for"
    allowed = {s.value for s in kind.scopes} if kind else set()
    if kind is not None and not chosen:
        errors["scopes"] = "Choose at least one scope"
    elif kind is not None and not chosen <= allowed:
        errors["scopes"] = f"A {kind.label.lower()} client may hold only: " + ", ".join(
            sorted(allowed)
        )
    if expires_at is not None and expires_at <= clock.now():
        errors["expires"] = "The expiry date must be in the future"
    return errors


def revoke(actor: Actor, client_id: int) -> ApiClient:
    client = db.session.get(ApiClient, client_id)
    if client is None:
        raise NotFound("No such API client")
    if client.revoked_at is None:
        client.revoked_at = clock.now()
        audit.record(actor, AuditKind.SECURITY, "api_client.revoked", "api_client", client.id)
    return client


def authenticate(token: str, now: datetime) -> ApiClient | None:
    """The active client holding ``token``, its last use noted; None for any other token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_hash == _hash(token)))
    if client is None or not client.active(now):
        return None
    # Noted at most once a minute, so a busy client does not write on every call.
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
        db.session.execute(
            update(ApiClient).where(ApiClient.id == client.id).values(last_used_at=now)
        )
    return client


def actor_for(client: ApiClient) -> Actor:
    """The client as the actor of its calls: the audit trail names it."""
    role = Role.PARTNER if client.kind is ApiClientKind.PARTNER else None
    return Actor(user_id=None, label=client.actor_label, role=role, agency_id=client.agency_id)


def has_scope(client: ApiClient, scope: ApiScope) -> bool:
    return scope in client.scope_set


def webhook_url_problem(url: str) -> str | None:
    if free_text.SINGLE_LINE_CONTROL.search(url):
        return "Remove the control characters from the URL"
    parts = urlsplit(url)
    local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if not parts.netloc or parts.scheme not in {"https", "http"}:
        return "Give an absolute https:// URL"
    if parts.scheme == "http" and not (local and not runtime().settings.is_production):
        return "The URL must use https:// (plain http only to localhost outside production)"
    if len(url) > text_limit(ApiClient.webhook_url):
        return f"The URL must be {text_limit(ApiClient.webhook_url)} characters or fewer"
    return None


def set_webhook(client: ApiClient, url: str) -> str:
    """Register (or replace) the client's webhook URL; a new signing secret is returned once."""
    problem = webhook_url_problem(url)
    if problem:
        raise InvalidInput({"url": problem})
    secret = webhooks.new_secret()
    client.webhook_url = url
    client.webhook_secret_sealed_id = identity_store.seal(webhooks.SECRET_PURPOSE, secret).id
    audit.record(
        actor_for(client), AuditKind.SECURITY, "api_client.webhook_set", "api_client", client.id
    )
    return secret


def clear_webhook(client: ApiClient) -> None:
    client.webhook_url = None
    client.webhook_secret_sealed_id = None
    audit.record(
        actor_for(client), AuditKind.SECURITY, "api_client.webhook_removed", "api_client", client.id
    )


def listed() -> list[ApiClient]:
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.name)))
