"""Writing and verifying the audit trail.

Each event's ``hash`` is HMAC-SHA256 (audit key) over its own fields and the previous event's hash,
so an edit, a deletion or a reordering breaks the chain at the first event touched. Writers take
the chain's lock (PostgreSQL: a transaction-scoped advisory lock; SQLite: ``BEGIN IMMEDIATE``
already serialises writers) so concurrent transactions still produce one unbroken chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, event, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind, AuditTouch
from referrals.runtime import runtime
from referrals.security.crypto import keyed_hash
from referrals.services.actors import Actor

GENESIS = "0" * 64
CHAIN_LOCK_ID = 0x52454641  # arbitrary constant naming "the audit chain" for pg_advisory_xact_lock

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "agency_id",
    "kind",
    "action",
    "record_type",
    "record_id",
    "recipients",
    "reason",
    "detail",
    "prev_hash",
)


# One encoder, built once: json.dumps with these arguments builds a new one on every call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _canonical(values: dict[str, Any]) -> bytes:
    fields = {name: values[name] for name in HASHED_FIELDS}
    fields["occurred_at"] = fields["occurred_at"].isoformat(timespec="microseconds")
    kind = fields["kind"]
    fields["kind"] = kind.value if isinstance(kind, AuditKind) else kind
    return _ENCODER.encode(fields).encode()


def event_hash(key: bytes, values: dict[str, Any], base: Any = None) -> str:
    """The keyed hash of one event. ``base`` is an HMAC already keyed, copied per event when
    many are hashed in a row (verify), which saves re-keying each time."""
    if base is None:
        return keyed_hash(key, _canonical(values))
    mac = base.copy()
    mac.update(_canonical(values))
    return str(mac.hexdigest())


def take_chain(connection: Connection) -> tuple[int, str]:
    """Take the chain for the rest of the connection's transaction (PostgreSQL: an advisory
    lock held until commit; SQLite: BEGIN IMMEDIATE already holds the write lock) and return
    its end, ``(seq, hash)``, from which the transaction's events continue."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHAIN_LOCK_ID})
    row = connection.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def record(
    actor: Actor,
    kind: AuditKind,
    action: str,
    record_type: str,
    record_id: object,
    *,
    reason: str | None = None,
    recipients: Iterable[str] | None = None,
    detail: dict[str, Any] | None = None,
    touched: Iterable[tuple[str, object]] = (),
) -> AuditEvent:
    """Append one event in the caller's transaction. Identifiers only: never names or free text
    other than the reason the user typed when asked for one. ``touched`` names the records the
    event showed besides its own, as (record type, id): the access reports find it by them."""
    session = db.session()
    tail = session.info.get(_TAIL)
    if tail is None:
        # The first event of this transaction; later ones continue from the end kept below.
        session.flush()  # an event an undone savepoint forgot is read back from the table
        tail = take_chain(session.connection())
    values: dict[str, Any] = {
        "seq": tail[0] + 1,
        "occurred_at": clock.now(),
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "agency_id": actor.agency_id,
        "kind": kind,
        "action": action,
        "record_type": record_type,
        "record_id": str(record_id),
        "recipients": ", ".join(recipients) if recipients else None,
        "reason": reason,
        "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")) if detail else None,
        "prev_hash": tail[1],
    }
    values["hash"] = event_hash(runtime().audit_key, values)
    touches = _touches(values["seq"], touched)
    batch = session.info.get(_BATCH)
    if batch is None:
        _write([values], touches)
    else:
        batch[0].append(values)
        batch[1].extend(touches)
    session.info[_TAIL] = (values["seq"], values["hash"])
    return AuditEvent(**values)  # what was written, outside the session


def _write(events: list[dict[str, Any]], touches: list[dict[str, Any]]) -> None:
    # Plain rows, not objects added to the session: an event is never read back or changed
    # through it, and the unit of work's bookkeeping for an event and the records it touched
    # cost a list page more than the page's own query did.
    if events:
        db.session.execute(insert(_table(AuditEvent)), events)
    if touches:
        db.session.execute(insert(_table(AuditTouch)), touches)


def _table(model: type[AuditEvent | AuditTouch]) -> Table:
    return db.metadata.tables[model.__tablename__]


@contextmanager
def together() -> Iterator[None]:
    """Events recorded inside are written at its end, in the order recorded, in one statement
    (and the records they touched in one more): a move of many referrals, or a page opening
    each child of a household, costs two writes, not two per referral. An error inside writes
    none of them, and the next event chains to the last one written. Only events belong inside:
    a savepoint undone there would forget the chain's end while its events still wait here."""
    session = db.session()
    if _BATCH in session.info:  # already inside: the outer one writes
        yield
        return
    events: list[dict[str, Any]] = []
    touches: list[dict[str, Any]] = []
    session.info[_BATCH] = (events, touches)
    try:
        yield
    except BaseException:
        session.info.pop(_TAIL, None)  # it named an event never written: read the end again
        raise
    finally:
        session.info.pop(_BATCH, None)
    if events:
        _write(events, touches)


def touch(seq: int, touched: Iterable[tuple[str, object]]) -> None:
    """Record more records that event ``seq`` touched (an export's rows, a batch at a time)."""
    _write([], _touches(seq, touched))


def _touches(seq: int, touched: Iterable[tuple[str, object]]) -> list[dict[str, Any]]:
    """One row per record touched, each once."""
    return [
        {"record_type": kind_of, "record_id": str(ident), "seq": seq}
        for kind_of, ident in dict.fromkeys(touched)
    ]


_TAIL = "audit.tail"  # (seq, hash) of this transaction's last event
_BATCH = "audit.batch"  # events (and their touches) recorded inside together(), not yet written


@event.listens_for(Session, "after_soft_rollback")
def _forget_tail_on_rollback(session: Session, _previous: SessionTransaction) -> None:
    session.info.pop(_TAIL, None)  # a rolled-back savepoint may have held the last event


@event.listens_for(Session, "after_transaction_end")
def _forget_tail(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TAIL, None)


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    problem: str = ""
    anchored: str = ""  # how the chain's end compares with the latest checkpoint (audit_anchor)

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; name the first event that is edited, missing or out of place."""
    key = runtime().audit_key
    base = hmac.new(key, digestmod=hashlib.sha256)
    columns = [getattr(AuditEvent, name) for name in HASHED_FIELDS] + [AuditEvent.hash]
    db.session.flush()  # events recorded in this transaction, too
    # Core, not the ORM: a plain stream of tuples is what a chain walk needs.
    rows = db.session.connection().execute(
        select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    )
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    names = (*HASHED_FIELDS, "hash")
    for row in rows:
        values = dict(zip(names, row, strict=True))
        seq = values["seq"]
        if seq != expected_seq:
            return VerifyResult(
                checked,
                seq,
                f"event {seq} follows event {expected_seq - 1}: "
                f"event {expected_seq} is missing or moved",
            )
        if values["prev_hash"] != prev_hash:
            return VerifyResult(
                checked, seq, f"event {seq} does not follow the event before it (reordered?)"
            )
        if event_hash(key, values, base) != values["hash"]:
            return VerifyResult(checked, seq, f"event {seq} was altered after it was written")
        prev_hash, expected_seq, checked = values["hash"], seq + 1, checked + 1
    return VerifyResult(checked)
