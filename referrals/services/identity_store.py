"""Sealing and opening identifying values; re-sealing under the active key (key rotation)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from referrals.extensions import db
from referrals.models.identity import SealedValue
from referrals.runtime import runtime


def _associated_data(value_id: str, purpose: str) -> bytes:
    return f"sealed_values|{value_id}|{purpose}".encode()


def sealed_row(purpose: str, plaintext: str) -> dict[str, object]:
    """A sealed value as a row for bulk insertion (the synthetic data generator): the same
    key, associated data and format as :func:`seal`."""
    value_id = str(uuid.uuid4())
    key_id, blob = runtime().keyring.seal(plaintext.encode(), _associated_data(value_id, purpose))
    return {"id": value_id, "purpose": purpose, "key_id": key_id, "ciphertext": blob}


def seal(purpose: str, plaintext: str) -> SealedValue:
    value_id = str(uuid.uuid4())
    key_id, blob = runtime().keyring.seal(plaintext.encode(), _associated_data(value_id, purpose))
    sealed = SealedValue(id=value_id, purpose=purpose, key_id=key_id, ciphertext=blob)
    db.session.add(sealed)
    # Rows that point at a sealed value hold only its id (no relationship), so the unit of work
    # cannot order the inserts itself: write the sealed value first.
    db.session.flush()
    return sealed


def seal_optional(purpose: str, plaintext: str | None) -> SealedValue | None:
    return seal(purpose, plaintext) if plaintext else None


def seal_json(purpose: str, data: dict[str, Any]) -> SealedValue:
    return seal(purpose, json.dumps(data, sort_keys=True))


def unseal(sealed: SealedValue) -> str:
    """Raises :class:`referrals.security.crypto.DecryptionError` if the row was tampered with."""
    return (
        runtime()
        .keyring.open(sealed.key_id, sealed.ciphertext, _associated_data(sealed.id, sealed.purpose))
        .decode()
    )


def unseal_id(value_id: str | None) -> str | None:
    if value_id is None:
        return None
    sealed = db.session.get(SealedValue, value_id)
    return unseal(sealed) if sealed is not None else None


def unseal_json(value_id: str) -> dict[str, Any]:
    text = unseal_id(value_id)
    loaded: dict[str, Any] = json.loads(text) if text else {}
    return loaded


def rotate(batch: int = 500) -> int:
    """Re-seal every value not under the active key. Returns how many were re-sealed."""
    keyring = runtime().keyring
    done = 0
    while True:
        rows = db.session.scalars(
            select(SealedValue).where(SealedValue.key_id != keyring.active_id).limit(batch)
        ).all()
        if not rows:
            return done
        for sealed in rows:
            aad = _associated_data(sealed.id, sealed.purpose)
            sealed.key_id, sealed.ciphertext = keyring.seal(
                keyring.open(sealed.key_id, sealed.ciphertext, aad), aad
            )
        db.session.flush()
        done += len(rows)
