"""The e-mail outbox: rows written in the same transaction as the change that causes them, sent
later by the relay. A rolled-back change leaves no row, so it sends nothing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, UTCDateTime, created_at, enum_type, intpk

WEBHOOK_TEMPLATE = "webhook"  # the template of a webhook event for an API client


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a relay; reclaimed after a lease if the relay died
    SENT = "sent"
    FAILED = "failed"  # out of retries: shown to supervisors


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_ready", "state", "next_attempt_at"),)

    id: Mapped[intpk]
    created_at: Mapped[created_at]
    template: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Stable per row: a re-send after a crash carries the same Message-ID, so mail systems and
    # people can see it is the same message.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    # A webhook event (template "webhook"): the API client whose URL receives it. Its body holds
    # ids, the event and a link, never case content; message_id is the event's stable id.
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"), index=True)
    state: Mapped[OutboxState] = mapped_column(enum_type(OutboxState, "state"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not before: quiet hours hold an e-mail until the recipient's working day.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
