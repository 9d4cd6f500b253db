"""The supervisor's board: what is overdue or nearly so, what is paused, what failed to send,
and thirty days of figures per agency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import defaultload

from referrals.calendars import WorkingCalendar
from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.models.incident import Incident, IncidentPerson, IncidentStatus, RiskGrade
from referrals.models.outbox import WEBHOOK_TEMPLATE, OutboxMessage, OutboxState
from referrals.models.referral import DUE_SOON, OPEN_STATES, Referral, ReferralState
from referrals.queries.open_work import open_work
from referrals.queries.paging import Cursor, Page


@dataclass(frozen=True)
class BoardFilters:
    agency_id: int | None = None
    borough: str | None = None
    risk: RiskGrade | None = None
    owner_id: int | None = None


def _scoped(filters: BoardFilters) -> Select[Referral]:
    """Open referrals (a clock running or paused), as filtered."""
    stmt = select(Referral).where(Referral.state.in_(OPEN_STATES))
    if filters.agency_id:
        stmt = stmt.where(Referral.agency_id == filters.agency_id)
    if filters.owner_id:
        stmt = stmt.where(Referral.owner_id == filters.owner_id)
    if filters.borough or filters.risk:
        stmt = stmt.join(Incident, Incident.id == Referral.incident_id)
        if filters.borough:
            stmt = stmt.where(Incident.borough_code == filters.borough)
        if filters.risk:
            stmt = stmt.where(Incident.risk_grade == filters.risk)
    return stmt


# What a board row shows: the incident, the agency, the subject's pseudonym; not the school.
_BOARD_ROW = (defaultload(Referral.subject).lazyload(IncidentPerson.school),)


def attention(
    filters: BoardFilters, now: datetime, *, after: Cursor | None, page_size: int
) -> Page[Referral]:
    """Overdue and due within two hours, for acknowledgement or for a decision, oldest due
    first, not paused."""
    due = Referral.clock_due_at
    stmt = _attention(filters, now)
    if after is not None:
        stmt = stmt.where(
            or_(due > after.moment, and_(due == after.moment, Referral.id > after.id))
        )
    # Ids first, on the due index alone; then the page's rows with what they show.
    ids = list(
        db.session.scalars(
            stmt.with_only_columns(Referral.id).order_by(due, Referral.id).limit(page_size + 1)
        )
    )
    loaded = {
        r.id: r
        for r in db.session.scalars(
            select(Referral).where(Referral.id.in_(ids)).options(*_BOARD_ROW)
        )
    }
    rows = [loaded[i] for i in ids]
    more = len(rows) > page_size
    rows = rows[:page_size]
    last = rows[-1] if rows and more and rows[-1].clock_due_at else None
    return Page(
        items=rows,
        older=Cursor(last.clock_due_at, last.id) if last and last.clock_due_at else None,
        newer=None,
    )


def _attention(filters: BoardFilters, now: datetime) -> Select[Referral]:
    return _scoped(filters).where(
        Referral.paused_at.is_(None), Referral.clock_due_at < now + DUE_SOON
    )


def attention_count(filters: BoardFilters, now: datetime) -> int:
    stmt = _attention(filters, now).with_only_columns(func.count())
    return int(db.session.scalar(stmt) or 0)


def agency_name(agency_id: int) -> str | None:
    """The name of the agency the board is filtered to (the filter is set from a row's link:
    at a million incidents, the agencies with something overdue run to a thousand schools)."""
    name: str | None = db.session.scalar(select(Agency.name).where(Agency.id == agency_id))
    return name


def counts(filters: BoardFilters, now: datetime) -> dict[str, int]:
    """Overdue (for acknowledgement, for a decision) and due-soon counts. For all agencies or
    one, from the kept counts and what is not yet due (``queries.open_work``); under a filter
    the counts cannot keep (borough, risk, owner), in one pass over the filtered open work."""
    if not (filters.borough or filters.risk or filters.owner_id):
        work = open_work(now, filters.agency_id)
        return {
            "overdue": work.overdue(*OPEN_STATES),
            "decision_overdue": work.overdue(ReferralState.ACKNOWLEDGED),
            "due_soon": work.due_soon(),
        }
    due = Referral.clock_due_at
    late = due < now
    overdue, decision, soon = db.session.execute(
        _scoped(filters)
        .where(Referral.paused_at.is_(None), due < now + DUE_SOON)
        .with_only_columns(
            func.count(case((late, 1))),
            func.count(case((and_(late, Referral.state == ReferralState.ACKNOWLEDGED), 1))),
            func.count(case((due >= now, 1))),
        )
    ).one()
    return {
        "overdue": int(overdue or 0),
        "decision_overdue": int(decision or 0),
        "due_soon": int(soon or 0),
    }


def stale_questions(now: datetime, working: WorkingCalendar, limit: int = 50) -> list[Referral]:
    """Partners' questions the desk has left unanswered for more than a working hour (of the
    desk's own working time), oldest first."""
    waiting = db.session.scalars(
        select(Referral)
        .where(Referral.question_open_since.is_not(None))
        .order_by(Referral.question_open_since, Referral.id)
        .limit(limit)
        .options(*_BOARD_ROW)
    )
    return [
        r
        for r in waiting
        if r.question_open_since is not None
        and working.working_between(r.question_open_since, now) >= timedelta(hours=1)
    ]


def desk_late(now: datetime, limit: int = 50) -> list[Incident]:
    """Incidents the desk has not sent by its own triage or share-by deadline, most urgent
    first (the desk's own breaches, while they can still be put right)."""
    return list(
        db.session.scalars(
            select(Incident)
            .where(
                Incident.status == IncidentStatus.LOGGED,
                or_(Incident.triage_due_at < now, Incident.share_by_at < now),
            )
            .order_by(Incident.triage_due_at, Incident.id)
            .limit(limit)
        )
    )


def paused(filters: BoardFilters, limit: int = 50) -> list[Referral]:
    return list(
        db.session.scalars(
            _scoped(filters)
            .where(Referral.paused_at.is_not(None))
            .order_by(Referral.paused_at)
            .limit(limit)
            .options(*_BOARD_ROW)
        )
    )


def failed_email(limit: int = 50, *, webhooks: bool = False) -> list[OutboxMessage]:
    """Messages out of retries, newest first: e-mails (supervisors), or webhook events
    (administrators, ``webhooks=True``)."""
    is_webhook = OutboxMessage.template == WEBHOOK_TEMPLATE
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.state == OutboxState.FAILED, is_webhook if webhooks else ~is_webhook
            )
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
