"""Declarative base, naming convention, column types and engine set-up."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, MetaData, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

from referrals import clock

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on every engine (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: store timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_cls: type[enum.Enum], column: str) -> Enum:
    """Store an Enum by value as a checked string (portable, readable, no native PG type).

    ``column`` names the CHECK constraint, which must be unique per table on PostgreSQL."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=f"{column}_values",
    )


def sealed(max_length: int | None = None, **kwargs: Any) -> Any:
    """A column pointing at a value sealed in the identity store. ``max_length`` is the limit
    of the text sealed there, declared here once and read through :func:`text_limit`."""
    info = {"max_length": max_length} if max_length else {}
    return mapped_column(ForeignKey("sealed_values.id"), info=info, **kwargs)


def text_limit(attribute: Any) -> int:
    """How many characters a text attribute may hold: the ``max_length`` declared for a sealed
    value, or a ``String`` column's own length. Validation and forms read limits from here, so
    a limit is said once, on the model, and a check can never allow more than the column."""
    column = attribute.property.columns[0]
    declared = column.info.get("max_length")
    if declared:
        return int(declared)
    length = getattr(column.type, "length", None)
    if not length:
        raise TypeError(f"{attribute} declares no text limit")
    return int(length)


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
utc_datetime = Annotated[datetime, mapped_column(UTCDateTime())]
created_at = Annotated[datetime, mapped_column(UTCDateTime(), default=clock.now)]
borough_code = Annotated[str, mapped_column(String(9))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def configure_engine(engine: Engine) -> None:
    """SQLite: WAL, busy timeout, foreign keys, and BEGIN IMMEDIATE so writers queue, not fail.

    ``SELECT ... FOR UPDATE`` does nothing on SQLite, so every claim in this code base is a
    compare-and-set UPDATE that works on both engines.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted content is overwritten with zeros, not left in free pages: a disposal at a
        # retention review erases for real (services/retention.py).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
