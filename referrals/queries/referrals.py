"""Partners' inboxes and the desk's view of an incident's referrals."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, case, func, or_, select
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
    """Counts for the open tabs in one pass over one agency's open work, read from the
    covering index ``ix_referrals_agency_due`` (never the whole history: the acknowledged and
    decided tabs show pages, not totals)."""
    running = Referral.paused_at.is_(None)
    new, soon, overdue = db.session.execute(
        select(
            func.count(),
            func.count(
                case((and_(running, Referral.due_at >= now, Referral.due_at < now + DUE_SOON), 1))
            ),
            func.count(case((and_(running, Referral.due_at < now), 1))),
        ).where(Referral.agency_id == agency_id, Referral.state.in_(AWAITING))
    ).one()
    return {
        InboxTab.NEW: int(new or 0),
        InboxTab.DUE_SOON: int(soon or 0),
        InboxTab.OVERDUE: int(overdue or 0),
    }


def for_incident(incident_id: int) -> list[Referral]:
    return list(
        db.session.scalars(
            select(Referral)
            .where(Referral.incident_id == incident_id)
            .order_by(Referral.subject_id, Referral.id)
        )
    )
