"""Browsing the audit trail for auditors: by record, actor and date, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind


@dataclass(frozen=True)
class AuditFilters:
    record_type: str | None = None
    record_id: str | None = None
    actor: str | None = None  # e-mail or system label
    kind: AuditKind | None = None
    date_from: date | None = None
    date_to: date | None = None


def events(filters: AuditFilters, *, before_seq: int | None, page_size: int) -> list[AuditEvent]:
    stmt = select(AuditEvent)
    if filters.record_type:
        stmt = stmt.where(AuditEvent.record_type == filters.record_type)
    if filters.record_id:
        stmt = stmt.where(AuditEvent.record_id == filters.record_id)
    if filters.actor:
        stmt = stmt.where(AuditEvent.actor_label == filters.actor.strip().lower())
    if filters.kind:
        stmt = stmt.where(AuditEvent.kind == filters.kind)
    if filters.date_from:
        stmt = stmt.where(
            AuditEvent.occurred_at >= clock.day_bounds(filters.date_from, filters.date_from)[0]
        )
    if filters.date_to:
        stmt = stmt.where(
            AuditEvent.occurred_at < clock.day_bounds(filters.date_to, filters.date_to)[1]
        )
    if before_seq is not None:
        stmt = stmt.where(AuditEvent.seq < before_seq)
    return list(db.session.scalars(stmt.order_by(AuditEvent.seq.desc()).limit(page_size + 1)))
