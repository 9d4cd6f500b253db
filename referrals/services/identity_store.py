"""Sealing and opening identifying values; re-sealing under the active key (key rotation)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

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
    """Seal a value for this unit of work. Rows that point at a sealed value hold only its id
    (no relationship), so the unit of work cannot order the inserts itself: sealed values wait
    here and are written together, in one statement, before anything else at the next flush or
    at commit, or before the next statement (see :func:`write_pending`). The value returned is
    for its ``id``."""
    row = sealed_row(purpose, plaintext)
    db.session.info.setdefault(_PENDING, []).append(row)
    return SealedValue(**row)


_PENDING = "identity_store.pending"


def write_pending(session: Session) -> None:
    """Insert the values sealed in this unit of work and not written yet."""
    rows = session.info.pop(_PENDING, None)
    if rows:
        session.connection().execute(insert(SealedValue), rows)  # no autoflush


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: object, _instances: object) -> None:
    write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    write_pending(state.session)  # a statement may point at them (compare-and-set UPDATEs)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write_pending(session)  # also when nothing else is left to flush


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed or rolled back: nothing sealed is left waiting
        session.info.pop(_PENDING, None)


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
    write_pending(db.session())
    sealed = db.session.get(SealedValue, value_id)
    return unseal(sealed) if sealed is not None else None


def unseal_many(value_ids: Iterable[str | None]) -> dict[str, str]:
    """Open several values with one query: ``{id: text}`` for those that exist."""
    wanted = {value_id for value_id in value_ids if value_id}
    if not wanted:
        return {}
    write_pending(db.session())
    rows = db.session.scalars(select(SealedValue).where(SealedValue.id.in_(wanted)))
    return {row.id: unseal(row) for row in rows}


def unseal_json(value_id: str) -> dict[str, Any]:
    return loads(unseal_id(value_id))


def loads(text: str | None) -> dict[str, Any]:
    """A sealed JSON value (an identity), opened: an empty dict for none."""
    loaded: dict[str, Any] = json.loads(text) if text else {}
    return loaded


def forget(value_ids: Iterable[str]) -> None:
    """Delete sealed values that nothing points at any more (a removed factor's secret, a
    corrected detail's old value): deleted, not hidden."""
    wanted = [v for v in value_ids if v]
    if wanted:
        write_pending(db.session())
        db.session.execute(delete(SealedValue).where(SealedValue.id.in_(wanted)))


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
