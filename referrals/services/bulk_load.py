"""Loading rows in bulk on two cores: one process builds batches of rows, a forked writer
inserts them (executemany on SQLite, ``COPY`` on PostgreSQL), a batch per transaction, chaining
each batch's audit events onto the end of the audit chain. Used by the synthetic data
generator (:mod:`referrals.services.generator`), which is the only thing that loads in bulk."""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import queue
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import Connection, Integer, text

from referrals.db import UTCDateTime
from referrals.extensions import db
from referrals.runtime import runtime
from referrals.services import audit


@dataclass
class TableRows:
    table: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass
class Batch:
    """Rows for one transaction. The audit events are not chained yet: the writer chains them
    onto the end it finds, under the chain's lock, as :func:`referrals.services.audit.record`."""

    tables: list[TableRows]
    audit_events: list[dict[str, Any]]
    incidents: int  # how many incidents the batch holds (for progress)


def _sqlite_datetime(value: datetime | None) -> str | None:
    """What SQLAlchemy's SQLite DateTime stores: naive UTC text with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def as_tuples(table: str, rows: list[dict[str, Any]], *, sqlite: bool) -> TableRows:
    """Rows as plain tuples in column order. For SQLite the moments are formatted here, in the
    process that builds, so that the writer only writes (SQLAlchemy's per-value processing was a
    fifth of the time); psycopg adapts aware datetimes itself."""
    columns = tuple(rows[0])
    getter = itemgetter(*columns)
    moments = [
        i
        for i, c in enumerate(columns)
        if isinstance(db.metadata.tables[table].c[c].type, UTCDateTime)
    ]
    if not (sqlite and moments):
        return TableRows(table, columns, [getter(row) for row in rows])
    converted = []
    for row in rows:
        values = list(getter(row))
        for i in moments:
            values[i] = _sqlite_datetime(values[i])
        converted.append(tuple(values))
    return TableRows(table, columns, converted)


def write_batch(connection: Connection, batch: Batch) -> None:
    """Insert one batch in the connection's transaction, its audit events chained onto the end
    of the audit chain (PostgreSQL: under the chain's advisory lock; SQLite: BEGIN IMMEDIATE)."""
    postgres = connection.dialect.name == "postgresql"
    seq, previous = audit.take_chain(connection)
    key = runtime().audit_key
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    events = []
    for values in batch.audit_events:
        seq += 1
        chained = {"seq": seq, **values, "prev_hash": previous}
        previous = chained["hash"] = audit.event_hash(key, chained, base=keyed)
        events.append(chained)
    tables = batch.tables
    if events:
        tables = [*tables, as_tuples("audit_events", events, sqlite=not postgres)]
    for part in tables:
        names = ", ".join(part.columns)
        if postgres:
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {part.table} ({names}) FROM STDIN") as copy:
                for row in part.rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in part.columns)
            connection.exec_driver_sql(
                f"INSERT INTO {part.table} ({names}) VALUES ({marks})",  # noqa: S608 - our names
                part.rows,
            )


# SQLite's page cache for the writer, in KiB (negative means KiB): the random keys of the
# unique indexes (sealed value ids, pseudonyms, link hashes) stay in memory at a million.
WRITER_CACHE_KIB = 2_000_000


def _writer(app: Flask, todo: Any, done: Any, durable: bool) -> None:
    """The writing process: takes batches off ``todo`` until ``None``, one transaction each,
    and reports each written batch (or the failure) on ``done``."""
    try:
        with app.app_context():
            db.engine.dispose(close=False)  # never touch a connection inherited from the parent
            with db.engine.connect() as connection:
                if connection.dialect.name == "sqlite":
                    raw = connection.connection.driver_connection  # outside any transaction
                    raw.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")  # type: ignore[union-attr]
                    raw.execute("PRAGMA wal_autocheckpoint=20000")  # type: ignore[union-attr]
                    if not durable:  # asked for: a database that can be generated again
                        raw.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
                while (batch := todo.get()) is not None:
                    with connection.begin():
                        write_batch(connection, batch)
                    done.put(("written", batch.incidents))
        done.put(("finished", 0))
    except BaseException:  # reported to the parent, which stops and says why
        done.put(("failed", traceback.format_exc()))


class WriterFailed(RuntimeError):
    pass


class Producer(Protocol):
    """What :func:`run` loads: batches built on demand until ``done`` reaches ``total``."""

    done: int
    total: int

    def build(self, size: int) -> Batch: ...


def run(
    app: Flask,
    gen: Producer,
    batch_size: int,
    progress: Callable[[int], None] = lambda written: None,
    *,
    durable: bool = True,
) -> None:
    """Build batches here and write them in a second process, so that on two cores building
    (Python: shapes, AES-GCM, HMACs) and writing (the database's B-trees) overlap. Each batch is
    committed on its own; ``progress`` is told how many incidents are written so far.
    ``durable=False`` lets SQLite skip waiting for the disk: faster, but an operating-system
    crash while loading can corrupt the file (a process crash cannot)."""
    db.session.remove()
    db.engine.dispose()  # no open connection crosses the fork
    context = multiprocessing.get_context("fork")
    todo = context.Queue(maxsize=3)
    done = context.Queue()
    writer = context.Process(
        target=_writer, args=(app, todo, done, durable), name="generator-writer"
    )
    writer.start()
    written = 0

    def drain(block: bool) -> bool:
        """Read the writer's reports; True once it has finished."""
        nonlocal written
        while True:
            try:
                what, value = done.get(timeout=1) if block else done.get_nowait()
            except queue.Empty:
                if not writer.is_alive() and done.empty():
                    raise WriterFailed(
                        f"the writer stopped (exit code {writer.exitcode})"
                    ) from None
                if not block:
                    return False
                continue
            if what == "failed":
                raise WriterFailed(value)
            if what == "finished":
                return True
            written += value
            progress(written)

    def send(batch: Batch | None) -> None:
        while True:
            try:
                todo.put(batch, timeout=1)
                return
            except queue.Full:
                drain(block=False)  # the writer is busy: see whether it is still alive

    try:
        while gen.done < gen.total:
            send(gen.build(batch_size))
            drain(block=False)
        send(None)
        while not drain(block=True):
            pass
        writer.join()
    except BaseException:  # the writer failed, or the parent was interrupted
        writer.terminate()  # a batch it was writing is rolled back with its transaction
        writer.join()
        todo.cancel_join_thread()  # what the writer never took is dropped, not waited for
        raise


def finish(tables: tuple[str, ...]) -> None:
    """PostgreSQL, after a load: refresh the planner's statistics, and move each id sequence
    past the ids the loader assigned itself (SQLite needs neither)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(text(f"ANALYZE {table}"))
    for table in tables:
        column = db.metadata.tables[table].c.get("id")
        if column is None or not isinstance(column.type, Integer):
            continue  # no sequence behind it (sealed values' ids are random, events have seq)
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
