"""The desk queue and the incident page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from referrals import clock
from referrals.extensions import db
from referrals.models.incident import Incident, IncidentPerson, IncidentStatus, RiskGrade
from referrals.models.referral import (
    ANSWERED,
    AWAITING,
    DUE_SOON,
    OPEN_STATES,
    Referral,
    ReferralState,
)
from referrals.queries.paging import Cursor, Page


class TriageFilter(StrEnum):
    """The desk's own triage clock, for incidents not yet sent."""

    OVERDUE = "overdue"
    WITHIN_HOUR = "hour"

    @property
    def label(self) -> str:
        return {"overdue": "Triage overdue", "hour": "Triage due within an hour"}[self.value]


TRIAGE_SOON = timedelta(hours=1)


class Attention(StrEnum):
    """The partners' clocks: incidents with a referral overdue, or due within two hours."""

    OVERDUE = "overdue"
    DUE_SOON = "due-soon"

    @property
    def label(self) -> str:
        return {"overdue": "Something overdue", "due-soon": "Due within two hours"}[self.value]


@dataclass(frozen=True)
class QueueFilters:
    borough: str | None = None
    risk: RiskGrade | None = None
    status: IncidentStatus | None = None
    triage: TriageFilter | None = None
    attention: Attention | None = None

    @property
    def any(self) -> bool:
        return any((self.borough, self.risk, self.status, self.triage, self.attention))

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links that keep them)."""
        values = {
            "borough": self.borough,
            "risk": self.risk,
            "status": self.status,
            "triage": self.triage,
            "attention": self.attention,
        }
        return {k: str(v) for k, v in values.items() if v}


def _filtered(filters: QueueFilters, now: datetime | None = None) -> Select[Incident]:
    stmt = select(Incident)
    if filters.attention is not None:
        moment = now or clock.now()
        limit = moment if filters.attention is Attention.OVERDUE else moment + DUE_SOON
        pressing = select(Referral.incident_id).where(
            Referral.clock_due_at < limit,
            Referral.paused_at.is_(None),
            Referral.state.in_(OPEN_STATES),
        )
        if filters.attention is Attention.DUE_SOON:
            pressing = pressing.where(Referral.clock_due_at >= moment)
        stmt = stmt.where(Incident.id.in_(pressing))
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
    stmt = _filtered(filters, now)
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


def queue_count(filters: QueueFilters, now: datetime) -> int:
    """How many incidents the queue lists under ``filters`` (for an export's record)."""
    stmt = _triage(filters, now) if filters.triage is not None else _filtered(filters, now)
    return int(db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def _triage(filters: QueueFilters, now: datetime) -> Select[Incident]:
    """Not yet sent, with triage overdue (or due within the hour)."""
    limit = now if filters.triage is TriageFilter.OVERDUE else now + TRIAGE_SOON
    return _filtered(filters, now).where(
        Incident.status == IncidentStatus.LOGGED, Incident.triage_due_at < limit
    )


def _by_triage(
    filters: QueueFilters, now: datetime, after: Cursor | None, page_size: int
) -> Page[Incident]:
    stmt = _triage(filters, now)
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
class Markers:
    """What the queue says of an incident's referrals (withdrawn ones aside)."""

    referrals: int
    waiting: int  # still waiting for the partner's acknowledgement
    overdue: int  # a running clock past its due time (acknowledgement or decision)
    due_soon: int  # a running clock due within two hours
    answered: int  # decided or declined
    questions: int  # a partner's question the desk has not answered
    declines: int  # a decline the desk has not dealt with
    earliest_due: datetime | None  # the soonest running clock

    @property
    def all_answered(self) -> bool:
        return self.referrals > 0 and self.answered == self.referrals


def markers(incident_ids: list[int], now: datetime) -> dict[int, Markers]:
    """For a page of the queue, one grouped query: only the incident ids in the WHERE clause,
    so the planner walks the incident index (a handful of rows), never every open referral."""
    if not incident_ids:
        return {}
    running = and_(Referral.state.in_(OPEN_STATES), Referral.paused_at.is_(None))
    due = Referral.clock_due_at

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        select(
            Referral.incident_id,
            func.count(),
            count(Referral.state.in_(AWAITING)),
            count(and_(running, due < now)),
            count(and_(running, due >= now, due < now + DUE_SOON)),
            count(Referral.state.in_(ANSWERED)),
            count(Referral.question_open_since.is_not(None)),
            count(
                and_(Referral.state == ReferralState.DECLINED, Referral.decline_dealt_at.is_(None))
            ),
            func.min(case((running, due))),
        )
        .where(Referral.incident_id.in_(incident_ids), Referral.state != ReferralState.WITHDRAWN)
        .group_by(Referral.incident_id)
    )
    found = {}
    for incident_id, total, *numbers, earliest in rows:
        if isinstance(earliest, str):  # an aggregate bypasses the column type on SQLite
            earliest = datetime.fromisoformat(earliest)
        if earliest is not None and earliest.tzinfo is None:
            earliest = earliest.replace(tzinfo=UTC)
        waiting, overdue, soon, answered, questions, declines = (int(n or 0) for n in numbers)
        found[incident_id] = Markers(
            int(total), waiting, overdue, soon, answered, questions, declines, earliest
        )
    return found
