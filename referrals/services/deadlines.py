"""Deadlines from the data: which rule applies to an agency, on which calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from referrals.calendars import DeadlineRule, RuleKind, SchoolCalendar, WorkingCalendar, due_time
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import RiskGrade
from referrals.models.routing import DeadlinePolicy, SchoolClosure

DEFAULT_RULE = DeadlineRule(kind=RuleKind.WORKING_DAYS, amount=1)


def policy_for(kind: AgencyKind, grade: RiskGrade, on: date) -> DeadlineRule:
    """The newest policy in force for this kind: one for the grade beats one for every grade."""
    rows = db.session.scalars(
        select(DeadlinePolicy)
        .where(
            DeadlinePolicy.agency_kind == kind,
            DeadlinePolicy.effective_from <= on,
            or_(DeadlinePolicy.risk_grade == grade, DeadlinePolicy.risk_grade.is_(None)),
        )
        .order_by(DeadlinePolicy.effective_from.desc(), DeadlinePolicy.id.desc())
    ).all()
    for row in sorted(rows, key=lambda r: r.risk_grade is None):
        return DeadlineRule(row.rule_kind, row.amount)
    return DEFAULT_RULE


def _closed_days(agency: Agency, around: date) -> frozenset[date]:
    """Closure dates for a school and its borough, within a window wide enough for any rule."""
    window_end = around + timedelta(days=400)
    scope = [SchoolClosure.school_id == agency.id]
    if agency.borough_code:
        scope.append(SchoolClosure.borough_code == agency.borough_code)
    rows = db.session.scalars(
        select(SchoolClosure).where(
            or_(*scope), SchoolClosure.ends_on >= around, SchoolClosure.starts_on <= window_end
        )
    )
    days: set[date] = set()
    for row in rows:
        day = max(row.starts_on, around)
        while day <= min(row.ends_on, window_end):
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


def calendars_for(agency: Agency, around: date) -> tuple[WorkingCalendar, SchoolCalendar | None]:
    if agency.kind is AgencyKind.SCHOOL:
        closed = _closed_days(agency, around)
        school = (
            SchoolCalendar(closed=closed)
            if agency.school_day_start is None
            else (SchoolCalendar(day_start=agency.school_day_start, closed=closed))
        )
        return WorkingCalendar(start=agency.work_start, end=agency.work_end, closed=closed), school
    return WorkingCalendar(start=agency.work_start, end=agency.work_end), None


def due_for(
    agency: Agency, grade: RiskGrade, received: datetime, now: datetime
) -> tuple[datetime, DeadlineRule]:
    rule = policy_for(agency.kind, grade, now.date())
    working, school = calendars_for(agency, received.date())
    return due_time(rule, received, now=now, working=working, school=school), rule


def shift_for_pause(
    agency: Agency, due: datetime, paused_at: datetime, resumed_at: datetime
) -> datetime:
    """A paused referral's due time moves on by the working time it spent paused."""
    working, _ = calendars_for(agency, paused_at.date())
    paused = working.working_between(paused_at, resumed_at)
    return working.add_working(due, paused) if paused else due
