"""The audit trail (Data Protection Act 2018 s.62): append-only, hash-chained."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, UTCDateTime, enum_type


class AuditKind(StrEnum):
    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"
    SECURITY = "security"  # sign-in, sign-out, refused sign-in: who had access when


class AuditEvent(Base):
    """One event. ``seq`` is assigned under a lock so the chain has one order on every engine;
    ``hash`` is a keyed HMAC over this event's fields and the previous event's hash.
    Database triggers (see the first migration) refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_record", "record_type", "record_id", "seq"),
        Index("ix_audit_events_actor", "actor_id", "seq"),
        Index("ix_audit_events_occurred", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[AuditKind] = mapped_column(enum_type(AuditKind, "kind"))
    action: Mapped[str] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[str | None] = mapped_column(String(500))
    # The reason a person gave when asked for one (a reveal, a withdrawal, an extension).
    reason: Mapped[str | None] = mapped_column(Text, info={"max_length": 1000})
    detail: Mapped[str | None] = mapped_column(Text)  # canonical JSON, identifiers only
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditTouch(Base):
    """A record an event touched besides its own: each referral a list showed with names, each
    row of an export. The access reports ("who saw this record") read these beside the events'
    own records. Append-only like the events (triggers in the migration); identifiers only, so
    they outlive the disposal of what they point at."""

    __tablename__ = "audit_touches"

    record_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(ForeignKey("audit_events.seq"), primary_key=True)
