"""Partners' inboxes, the desk's view of an incident's referrals, and the desk's "before school"
list of school referrals not yet seen."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.referral import (
    ANSWERED,
    AWAITING,
    DUE_SOON,
    OPEN_STATES,
    Referral,
    ReferralState,
)
from referrals.queries.open_work import open_work
from referrals.queries.paging import Cursor, Page


class InboxTab(StrEnum):
    NEW = "new"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"
    ACKNOWLEDGED = "acknowledged"
    DECISION_OVERDUE = "decision-overdue"
    DECIDED = "decided"

    @property
    def label(self) -> str:
        return {
            "new": "New",
            "due-soon": "Due soon",
            "overdue": "Overdue",
            "acknowledged": "Acknowledged",
            "decision-overdue": "Decision overdue",
            "decided": "Decided",
        }[self.value]

    @property
    def counted(self) -> bool:
        """Tabs of open work show a count; the history tabs show pages only."""
        return self in COUNTED_TABS


COUNTED_TABS = (InboxTab.NEW, InboxTab.DUE_SOON, InboxTab.OVERDUE, InboxTab.DECISION_OVERDUE)


def _tab_condition(tab: InboxTab, now: datetime) -> ColumnElement[bool]:
    awaiting = Referral.state.in_(AWAITING)
    running = and_(Referral.state.in_(OPEN_STATES), Referral.paused_at.is_(None))
    due = Referral.clock_due_at
    return {
        InboxTab.NEW: awaiting,
        InboxTab.DUE_SOON: and_(running, due >= now, due < now + DUE_SOON),
        InboxTab.OVERDUE: and_(awaiting, Referral.paused_at.is_(None), due < now),
        InboxTab.ACKNOWLEDGED: Referral.state == ReferralState.ACKNOWLEDGED,
        InboxTab.DECISION_OVERDUE: and_(
            Referral.state == ReferralState.ACKNOWLEDGED, Referral.paused_at.is_(None), due < now
        ),
        InboxTab.DECIDED: Referral.state.in_(ANSWERED),
    }[tab]


def _agency_scope(agency_id: int) -> Select[Referral]:
    # Withdrawn referrals vanish from the partner at once; the agency is the only scope.
    return select(Referral).where(
        Referral.agency_id == agency_id, Referral.state != ReferralState.WITHDRAWN
    )


def inbox(
    agency_id: int, tab: InboxTab, now: datetime, *, older_than: Cursor | None, page_size: int
) -> Page[Referral]:
    return _newest_first(
        _agency_scope(agency_id).where(_tab_condition(tab, now)), older_than, page_size
    )


def inbox_count(agency_id: int, tab: InboxTab, now: datetime) -> int:
    stmt = _agency_scope(agency_id).where(_tab_condition(tab, now)).subquery()
    return int(db.session.scalar(select(func.count()).select_from(stmt)) or 0)


def for_api(
    agency_id: int,
    *,
    states: list[ReferralState],
    updated_since: datetime | None,
    older_than: Cursor | None,
    page_size: int,
) -> Page[Referral]:
    """A partner system's list: its agency's referrals, newest sent first, by state and by
    what changed since its last look."""
    stmt = _agency_scope(agency_id)
    if states:
        stmt = stmt.where(Referral.state.in_(states))
    if updated_since is not None:
        stmt = stmt.where(Referral.updated_at > updated_since)
    return _newest_first(stmt, older_than, page_size)


def _newest_first(
    stmt: Select[Referral], older_than: Cursor | None, page_size: int
) -> Page[Referral]:
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
    """Counts for the tabs of open work, from the agency's kept counts and its work not yet due
    (``queries.open_work``: never the agency's whole open list, nor its history)."""
    work = open_work(now, agency_id)
    return {
        InboxTab.NEW: work.count(*AWAITING),
        InboxTab.DUE_SOON: work.due_soon(),
        InboxTab.OVERDUE: work.overdue(*AWAITING),
        InboxTab.DECISION_OVERDUE: work.overdue(ReferralState.ACKNOWLEDGED),
    }


def for_incident(incident_id: int) -> list[Referral]:
    return list(
        db.session.scalars(
            select(Referral)
            .where(Referral.incident_id == incident_id)
            .order_by(Referral.subject_id, Referral.id)
        )
    )


def before_school(
    starts: datetime, ends: datetime, *, after: Cursor | None, page_size: int
) -> Page[Referral]:
    """School referrals due in ``[starts, ends)`` (a London day) that the school has not yet
    opened, soonest first: the desk rings the school before the child arrives."""
    stmt = (
        select(Referral.id)
        .join(Agency, Agency.id == Referral.agency_id)
        .where(
            Referral.state == ReferralState.SENT,
            Referral.clock_due_at >= starts,
            Referral.clock_due_at < ends,
            Agency.kind == AgencyKind.SCHOOL,
        )
    )
    if after is not None:
        stmt = stmt.where(
            or_(
                Referral.clock_due_at > after.moment,
                and_(Referral.clock_due_at == after.moment, Referral.id > after.id),
            )
        )
    ids = list(
        db.session.scalars(stmt.order_by(Referral.clock_due_at, Referral.id).limit(page_size + 1))
    )
    loaded = {r.id: r for r in db.session.scalars(select(Referral).where(Referral.id.in_(ids)))}
    rows = [loaded[i] for i in ids][:page_size]
    last = rows[-1] if len(ids) > page_size and rows else None
    return Page(
        items=rows,
        older=Cursor(last.clock_due_at, last.id) if last and last.clock_due_at else None,
        newer=None,
    )
