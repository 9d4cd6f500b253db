"""Partners' inboxes, the desk's view of an incident's referrals, and the desk's "before school"
list of school referrals not yet seen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, and_, func, or_, select, union_all
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


# Each tab is a set of states and a condition beyond them. A page is read one state at a time
# (below), so the states are named apart from the rest of the condition.
TAB_STATES: dict[InboxTab, tuple[ReferralState, ...]] = {
    InboxTab.NEW: AWAITING,
    InboxTab.DUE_SOON: OPEN_STATES,
    InboxTab.OVERDUE: AWAITING,
    InboxTab.ACKNOWLEDGED: (ReferralState.ACKNOWLEDGED,),
    InboxTab.DECISION_OVERDUE: (ReferralState.ACKNOWLEDGED,),
    InboxTab.DECIDED: ANSWERED,
}


def _tab_clock(tab: InboxTab, now: datetime) -> list[ColumnElement[bool]]:
    """What a tab asks of the running clock, beyond its states."""
    unpaused = Referral.paused_at.is_(None)
    due = Referral.clock_due_at
    return {
        InboxTab.DUE_SOON: [unpaused, due >= now, due < now + DUE_SOON],
        InboxTab.OVERDUE: [unpaused, due < now],
        InboxTab.DECISION_OVERDUE: [unpaused, due < now],
    }.get(tab, [])


def _agency_scope(agency_id: int) -> Select[Referral]:
    # Withdrawn referrals vanish from the partner at once; the agency is the only scope.
    return select(Referral).where(
        Referral.agency_id == agency_id, Referral.state != ReferralState.WITHDRAWN
    )


def inbox(
    agency_id: int, tab: InboxTab, now: datetime, *, older_than: Cursor | None, page_size: int
) -> Page[Referral]:
    return _newest_first(agency_id, TAB_STATES[tab], _tab_clock(tab, now), older_than, page_size)


def inbox_count(agency_id: int, tab: InboxTab, now: datetime) -> int:
    stmt = (
        _agency_scope(agency_id)
        .where(Referral.state.in_(TAB_STATES[tab]), *_tab_clock(tab, now))
        .subquery()
    )
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
    wanted = tuple(dict.fromkeys(s for s in states if s is not ReferralState.WITHDRAWN))
    if states and not wanted:
        return Page(items=[], older=None, newer=None)  # withdrawn only: the partner has none
    since = [Referral.updated_at > updated_since] if updated_since is not None else []
    return _newest_first(agency_id, wanted or None, since, older_than, page_size)


def _newest_first(
    agency_id: int,
    states: Sequence[ReferralState] | None,
    where: list[ColumnElement[bool]],
    older_than: Cursor | None,
    page_size: int,
) -> Page[Referral]:
    """A page of the agency's referrals in ``states`` (None: any the partner sees) meeting
    ``where``, newest sent first. Each state is read on its own, newest first along
    ``ix_referrals_agency_state_sent`` (whose other columns answer the clock's conditions), and
    only the newest page of each is merged: a tab costs the same whatever the agency's history,
    where one walk of all its referrals in sent order passed over every row in other states."""
    if older_than is not None:
        where = [
            *where,
            or_(
                Referral.sent_at < older_than.moment,
                and_(Referral.sent_at == older_than.moment, Referral.id < older_than.id),
            ),
        ]
    newest = (Referral.sent_at.desc(), Referral.id.desc())
    if states is None:
        stmt = _agency_scope(agency_id).where(*where).order_by(*newest)
    else:
        per_state = [
            select(Referral.id, Referral.sent_at)
            .where(Referral.agency_id == agency_id, Referral.state == state, *where)
            .order_by(*newest)
            .limit(page_size + 1)
            .subquery()
            for state in states
        ]
        picked = union_all(*(select(s.c.id, s.c.sent_at) for s in per_state)).subquery()
        stmt = (
            select(Referral)
            .join(picked, picked.c.id == Referral.id)
            .order_by(picked.c.sent_at.desc(), picked.c.id.desc())
        )
    rows = list(db.session.scalars(stmt.limit(page_size + 1)))
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
