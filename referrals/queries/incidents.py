"""The desk queue and the incident page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from referrals import clock
from referrals.extensions import db
from referrals.models.incident import Incident, IncidentPerson, IncidentStatus, RiskGrade
from referrals.models.referral import AWAITING, Referral
from referrals.queries.paging import Cursor, Page


class TriageFilter(StrEnum):
    """The desk's own triage clock, for incidents not yet sent."""

    OVERDUE = "overdue"
    WITHIN_HOUR = "hour"

    @property
    def label(self) -> str:
        return {"overdue": "Triage overdue", "hour": "Triage due within an hour"}[self.value]


TRIAGE_SOON = timedelta(hours=1)


@dataclass(frozen=True)
class QueueFilters:
    borough: str | None = None
    risk: RiskGrade | None = None
    status: IncidentStatus | None = None
    triage: TriageFilter | None = None

    @property
    def any(self) -> bool:
        return any((self.borough, self.risk, self.status, self.triage))


def _filtered(filters: QueueFilters) -> Select[Incident]:
    stmt = select(Incident)
    if filters.borough:
        stmt = stmt.where(Incident.borough_code == filters.borough)
    if filters.risk:
        stmt = stmt.where(Incident.risk_grade == filters.risk)
    if filters.status:
        stmt = stmt.where(Incident.status == filters.status)
    return stmt


def queue(
    filters: QueueFilters,
    *,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
    page_size: int = 25,
    now: datetime | None = None,
) -> Page[Incident]:
    """Newest first by time received, ``page_size`` at a time, without counting history; with a
    triage filter, the incidents not yet sent whose triage is overdue or due within the hour,
    soonest due first."""
    if filters.triage is not None:
        return _by_triage(filters, now or clock.now(), older_than, page_size)
    stmt = _filtered(filters)
    key = (Incident.received_at, Incident.id)
    if newer_than is not None:
        stmt = stmt.where(
            or_(
                key[0] > newer_than.moment,
                and_(key[0] == newer_than.moment, key[1] > newer_than.id),
            )
        ).order_by(key[0].asc(), key[1].asc())
    else:
        if older_than is not None:
            stmt = stmt.where(
                or_(
                    key[0] < older_than.moment,
                    and_(key[0] == older_than.moment, key[1] < older_than.id),
                )
            )
        stmt = stmt.order_by(key[0].desc(), key[1].desc())
    rows = list(db.session.scalars(stmt.limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    if newer_than is not None:
        rows.reverse()
        has_newer, has_older = more, True
    else:
        has_newer, has_older = older_than is not None, more
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    return Page(
        items=rows,
        older=Cursor(last.received_at, last.id) if last and has_older else None,
        newer=Cursor(first.received_at, first.id) if first and has_newer else None,
    )


def _by_triage(
    filters: QueueFilters, now: datetime, after: Cursor | None, page_size: int
) -> Page[Incident]:
    limit = now if filters.triage is TriageFilter.OVERDUE else now + TRIAGE_SOON
    stmt = _filtered(filters).where(
        Incident.status == IncidentStatus.LOGGED, Incident.triage_due_at < limit
    )
    if after is not None:
        stmt = stmt.where(
            or_(
                Incident.triage_due_at > after.moment,
                and_(Incident.triage_due_at == after.moment, Incident.id > after.id),
            )
        )
    rows = list(
        db.session.scalars(stmt.order_by(Incident.triage_due_at, Incident.id).limit(page_size + 1))
    )
    more = len(rows) > page_size
    rows = rows[:page_size]
    last = rows[-1] if rows and more else None
    return Page(items=rows, older=Cursor(last.triage_due_at, last.id) if last else None, newer=None)


def incident_with_people(incident_id: int) -> Incident | None:
    found: Incident | None = db.session.scalar(
        select(Incident)
        .where(Incident.id == incident_id)
        .options(selectinload(Incident.people).joinedload(IncidentPerson.person))
    )
    return found


def person_on_incident(incident_id: int, link_id: int) -> IncidentPerson | None:
    link = db.session.get(IncidentPerson, link_id)
    return link if link is not None and link.incident_id == incident_id else None


@dataclass(frozen=True)
class Waiting:
    partners: int
    overdue: int


def waiting_on_partners(incident_ids: list[int], now: datetime) -> dict[int, Waiting]:
    """For a page of the queue: how many referrals of each incident still wait on a partner's
    acknowledgement, and how many of those are overdue (one grouped query per page)."""
    if not incident_ids:
        return {}
    # Only the incident ids in the WHERE clause, so the planner walks the incident index (a
    # handful of rows) rather than every referral still awaiting acknowledgement.
    awaiting = Referral.state.in_(AWAITING)
    overdue = and_(awaiting, Referral.due_at < now, Referral.paused_at.is_(None))
    rows = db.session.execute(
        select(
            Referral.incident_id,
            func.sum(case((awaiting, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
        )
        .where(Referral.incident_id.in_(incident_ids))
        .group_by(Referral.incident_id)
    )
    return {i: Waiting(int(n), int(late or 0)) for i, n, late in rows if n}
