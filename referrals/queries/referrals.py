"""Partners' inboxes and the desk's view of an incident's referrals."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from referrals.extensions import db
from referrals.models.referral import AWAITING, Referral, ReferralState
from referrals.queries.paging import Cursor, Page

DUE_SOON = timedelta(hours=2)


class InboxTab(StrEnum):
    NEW = "new"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"
    ACKNOWLEDGED = "acknowledged"
    DECIDED = "decided"

    @property
    def label(self) -> str:
        return {
            "new": "New",
            "due-soon": "Due soon",
            "overdue": "Overdue",
            "acknowledged": "Acknowledged",
            "decided": "Decided",
        }[self.value]


def _tab_condition(tab: InboxTab, now: datetime) -> ColumnElement[bool]:
    awaiting = Referral.state.in_(AWAITING)
    running = and_(awaiting, Referral.paused_at.is_(None))
    return {
        InboxTab.NEW: awaiting,
        InboxTab.DUE_SOON: and_(running, Referral.due_at >= now, Referral.due_at < now + DUE_SOON),
        InboxTab.OVERDUE: and_(running, Referral.due_at < now),
        InboxTab.ACKNOWLEDGED: Referral.state == ReferralState.ACKNOWLEDGED,
        InboxTab.DECIDED: Referral.state.in_((ReferralState.DECIDED, ReferralState.DECLINED)),
    }[tab]


def _agency_scope(agency_id: int) -> Select[Referral]:
    # Withdrawn referrals vanish from the partner at once; the agency is the only scope.
    return select(Referral).where(
        Referral.agency_id == agency_id, Referral.state != ReferralState.WITHDRAWN
    )


def inbox(
    agency_id: int, tab: InboxTab, now: datetime, *, older_than: Cursor | None, page_size: int
) -> Page[Referral]:
    stmt = _agency_scope(agency_id).where(_tab_condition(tab, now))
    if older_than is not None:
        stmt = stmt.where(
            or_(
                Referral.sent_at < older_than.moment,
                and_(Referral.sent_at == older_than.moment, Referral.id < older_than.id),
            )
        )
    rows = list(
        db.session.scalars(
            stmt.order_by(Referral.sent_at.desc(), Referral.id.desc()).limit(page_size + 1)
        )
    )
    more = len(rows) > page_size
    rows = rows[:page_size]
    last = rows[-1] if rows and more else None
    return Page(items=rows, older=Cursor(last.sent_at, last.id) if last else None, newer=None)


def tab_counts(agency_id: int, now: datetime) -> dict[InboxTab, int]:
    """Counts for the tabs: bounded by one agency's open work, never the whole history."""
    counts: dict[InboxTab, int] = {}
    for tab in InboxTab:
        if tab in (InboxTab.ACKNOWLEDGED, InboxTab.DECIDED):
            continue  # history grows without bound: those tabs show pages, not totals
        stmt = select(func.count(Referral.id)).where(
            Referral.agency_id == agency_id,
            Referral.state != ReferralState.WITHDRAWN,
            _tab_condition(tab, now),
        )
        counts[tab] = int(db.session.scalar(stmt) or 0)
    return counts


def for_incident(incident_id: int) -> list[Referral]:
    return list(
        db.session.scalars(
            select(Referral)
            .where(Referral.incident_id == incident_id)
            .order_by(Referral.subject_id, Referral.id)
        )
    )
