"""Deadlines from the data: which rule sets each clock, on which calendar, and when a notice that
announces a deadline may go out.

Policies are read into a :class:`PolicyBook` (pure), so that the desk, one referral at a time,
and the synthetic generator, a million at a time, choose rules in exactly the same way. Dates an
administrator typed ("effective from 8 July") are London dates, compared with the London date
of the moment in question.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from referrals import clock
from referrals.calendars import DeadlineRule, RuleKind, SchoolCalendar, WorkingCalendar, due_time
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.calendar import SchoolClosure
from referrals.models.deadlines import DeadlineClock, DeadlinePolicy
from referrals.models.incident import RiskGrade
from referrals.profiles import ONE_WORKING_DAY, profile
from referrals.queries import agencies

Calendars = tuple[WorkingCalendar, SchoolCalendar | None]


@dataclass(frozen=True)
class _Row:
    grade: RiskGrade | None
    rule: DeadlineRule
    effective_from: date
    id: int


class PolicyBook:
    """Every deadline policy, ready to answer "which rule, for this kind, clock and grade, on
    this London date?". A row for the grade beats a row for every grade; among those, the newest
    in force wins; with no row in force the kind's profile decides."""

    def __init__(self, policies: list[DeadlinePolicy]) -> None:
        self._rows: dict[tuple[AgencyKind, DeadlineClock], list[_Row]] = defaultdict(list)
        for p in policies:
            self._rows[(p.agency_kind, p.clock)].append(
                _Row(p.risk_grade, DeadlineRule(p.rule_kind, p.amount), p.effective_from, p.id)
            )
        for rows in self._rows.values():
            rows.sort(key=lambda r: (r.grade is None, -r.effective_from.toordinal(), -r.id))

    def rule(
        self, kind: AgencyKind, clock_: DeadlineClock, grade: RiskGrade, on: date
    ) -> DeadlineRule | None:
        """The rule in force, or None when this clock does not run for this kind."""
        for row in self._rows.get((kind, clock_), ()):
            if row.effective_from <= on and row.grade in (grade, None):
                return None if row.rule.kind is RuleKind.NO_DEADLINE else row.rule
        return profile(kind).default_rule(clock_, grade)


def policy_book(kind: AgencyKind | None = None) -> PolicyBook:
    stmt = select(DeadlinePolicy)
    if kind is not None:
        stmt = stmt.where(DeadlinePolicy.agency_kind == kind)
    return PolicyBook(list(db.session.scalars(stmt)))


def build_calendars(agency: Agency, closed: frozenset[date] = frozenset()) -> Calendars:
    """An agency's working calendar (and a school's school calendar) from its hours and the
    days its school calendar is closed."""
    if agency.kind is AgencyKind.SCHOOL:
        start = agency.school_day_start or profile(agency.kind).school_day_start
        school = SchoolCalendar(closed=closed) if start is None else SchoolCalendar(start, closed)
        return WorkingCalendar(start=agency.work_start, end=agency.work_end, closed=closed), school
    return WorkingCalendar(start=agency.work_start, end=agency.work_end), None


def closed_days(agency: Agency, around: datetime) -> frozenset[date]:
    """Closure dates for a school and its borough, within a window wide enough for any rule."""
    if agency.kind is not AgencyKind.SCHOOL:
        return frozenset()
    first = clock.london_day(around)
    window_end = first + timedelta(days=400)
    scope = [SchoolClosure.school_id == agency.id]
    if agency.borough_code:
        scope.append(SchoolClosure.borough_code == agency.borough_code)
    rows = db.session.scalars(
        select(SchoolClosure).where(
            or_(*scope), SchoolClosure.ends_on >= first, SchoolClosure.starts_on <= window_end
        )
    )
    days: set[date] = set()
    for row in rows:
        day = max(row.starts_on, first)
        while day <= min(row.ends_on, window_end):
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


def calendars_for(agency: Agency, around: datetime) -> Calendars:
    return build_calendars(agency, closed_days(agency, around))


def desk_calendar() -> WorkingCalendar:
    """The police desk's own working time, set by administrators like any agency's."""
    desk = agencies.police_desk()
    if desk is None:
        desk_profile = profile(AgencyKind.POLICE_DESK)
        return WorkingCalendar(start=desk_profile.work_start, end=desk_profile.work_end)
    return build_calendars(desk)[0]


def clock_due(
    rule: DeadlineRule, received: datetime, now: datetime, calendars: Calendars
) -> datetime:
    """Due time of a partner's clock: counted from receipt, or from ``now`` (the desk sends
    later than it received), so a partner's due time is never in the past when set."""
    working, school = calendars
    return due_time(rule, received, now=now, working=working, school=school)


@dataclass(frozen=True)
class ReferralClocks:
    """The clocks a new referral starts with."""

    due_at: datetime
    rule: DeadlineRule
    decision_due_at: datetime | None
    decision_rule: DeadlineRule | None


def referral_clocks(
    book: PolicyBook,
    agency: Agency,
    grade: RiskGrade,
    received: datetime,
    now: datetime,
    calendars: Calendars,
) -> ReferralClocks:
    """Acknowledgement and decision due times for a referral the desk sends ``now``. Pure: the
    caller passes the policies and the agency's calendars (the desk and the generator alike)."""
    day = clock.london_day(now)
    ack = book.rule(agency.kind, DeadlineClock.ACKNOWLEDGE, grade, day) or ONE_WORKING_DAY
    decide = book.rule(agency.kind, DeadlineClock.DECISION, grade, day)
    return ReferralClocks(
        due_at=clock_due(ack, received, now, calendars),
        rule=ack,
        decision_due_at=clock_due(decide, received, now, calendars) if decide else None,
        decision_rule=decide,
    )


def triage_due(
    book: PolicyBook, grade: RiskGrade, received: datetime, desk: WorkingCalendar
) -> datetime:
    """The desk's triage deadline, counted from the moment it received the notification (it may
    already have passed when the incident is logged late: that is the desk's own breach)."""
    day = clock.london_day(received)
    rule = book.rule(AgencyKind.POLICE_DESK, DeadlineClock.TRIAGE, grade, day) or ONE_WORKING_DAY
    return due_time(rule, received, now=received, working=desk)


def share_by(school: SchoolCalendar, received: datetime) -> datetime:
    """Operation Encompass: the start of the school's next school day after the desk received
    the notification (received at 08:29 on a school day: 08:30 that day)."""
    return school.next_day_start(received)


def notice_time(
    agency: Agency,
    grade: RiskGrade,
    announced_due: datetime | None,
    now: datetime,
    working: WorkingCalendar,
) -> datetime:
    """When a notice may go out. Quiet hours (the recipient's working time) apply only where the
    deadline allows them: never for high risk, never for a kind whose notices go at any hour
    (schools: they hold a reference and a link only), and never past the due time announced."""
    if grade is RiskGrade.HIGH or profile(agency.kind).notices_any_hour:
        return now
    opens = working.next_working_moment(now)
    if announced_due is not None and opens > announced_due:
        return now
    return opens


def shift_for_pause(
    agency: Agency, due: datetime, paused_at: datetime, resumed_at: datetime
) -> datetime:
    """A paused clock's due time moves on by the working time it spent paused."""
    working, _ = calendars_for(agency, paused_at)
    paused = working.working_between(paused_at, resumed_at)
    return working.add_working(due, paused) if paused else due
