"""The desk's clocks and the partners' (``referrals/services/deadlines.py``) and the ladder's
step times (``referrals/services/escalation.py``): the pure parts, on named hard cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from referrals.calendars import DeadlineRule, RuleKind, SchoolCalendar, WorkingCalendar
from referrals.clock import LONDON, london_day
from referrals.models.agency import Agency, AgencyKind
from referrals.models.deadlines import DeadlineClock, DeadlinePolicy
from referrals.models.escalation import EscalationStep
from referrals.models.incident import RiskGrade
from referrals.profiles import LADDER
from referrals.services import deadlines, escalation

WORK = WorkingCalendar()
BOOK = deadlines.PolicyBook([])  # no rows: the profiles decide


def london(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


def policy(
    kind: AgencyKind,
    clock: DeadlineClock,
    rule: RuleKind,
    amount: int,
    effective: date,
    grade: RiskGrade | None = None,
    ident: int = 1,
) -> DeadlinePolicy:
    return DeadlinePolicy(
        id=ident,
        agency_kind=kind,
        clock=clock,
        risk_grade=grade,
        rule_kind=rule,
        amount=amount,
        effective_from=effective,
    )


def agency(kind: AgencyKind, **extra: object) -> Agency:
    return Agency(kind=kind, work_start=time(9), work_end=time(17), **extra)


@pytest.mark.parametrize(
    ("name", "grade", "received", "expected"),
    [
        (
            "high risk: one hour, any hour",
            RiskGrade.HIGH,
            london(2026, 11, 21, 23, 30),
            london(2026, 11, 22, 0, 30),
        ),
        (
            "medium, Friday 16:00: four working hours",
            RiskGrade.MEDIUM,
            london(2026, 11, 20, 16),
            london(2026, 11, 23, 12),
        ),
        (
            "standard, Friday 16:00: one working day",
            RiskGrade.STANDARD,
            london(2026, 11, 20, 16),
            london(2026, 11, 23, 16),
        ),
        (
            "standard, Maundy Thursday 16:00",
            RiskGrade.STANDARD,
            london(2026, 4, 2, 16),
            london(2026, 4, 7, 16),
        ),
        (
            "medium, Saturday night",
            RiskGrade.MEDIUM,
            london(2026, 11, 21, 22),
            london(2026, 11, 23, 13),
        ),
        (
            "high, the night the clocks go back",
            RiskGrade.HIGH,
            london(2026, 10, 25, 0, 45),
            datetime(2026, 10, 25, 0, 45, tzinfo=UTC),
        ),
    ],
)
def test_triage_deadlines(
    name: str, grade: RiskGrade, received: datetime, expected: datetime
) -> None:
    assert deadlines.triage_due(BOOK, grade, received, WORK) == expected.astimezone(UTC), name


def test_a_policy_from_8_july_applies_from_london_midnight() -> None:
    """ "Effective from 8 July" is a London date: 00:30 on 8 July (BST) is 23:30 UTC on the 7th."""
    book = deadlines.PolicyBook(
        [
            policy(
                AgencyKind.CHILDRENS_SOCIAL_CARE,
                DeadlineClock.ACKNOWLEDGE,
                RuleKind.WORKING_HOURS,
                4,
                date(2026, 7, 8),
            )
        ]
    )
    just_after = datetime(2026, 7, 7, 23, 30, tzinfo=UTC)
    just_before = datetime(2026, 7, 7, 22, 59, tzinfo=UTC)  # 23:59 London on the 7th
    kind, clock, grade = AgencyKind.CHILDRENS_SOCIAL_CARE, DeadlineClock.ACKNOWLEDGE, RiskGrade.HIGH
    new = book.rule(kind, clock, grade, london_day(just_after))
    old = book.rule(kind, clock, grade, london_day(just_before))
    assert new == DeadlineRule(RuleKind.WORKING_HOURS, 4)
    assert old == DeadlineRule(RuleKind.WORKING_DAYS, 1)  # the profile's default before it


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),  # GMT: still the 28th
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29)),  # the clocks go forward
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # BST: 00:30 on the 25th
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), date(2026, 10, 25)),  # 01:30 BST, then GMT
    ],
)
def test_policies_taking_effect_at_00_30_on_a_clock_change_night(
    moment: datetime, day: date
) -> None:
    book = deadlines.PolicyBook(
        [policy(AgencyKind.POLICE_DESK, DeadlineClock.TRIAGE, RuleKind.ELAPSED_HOURS, 2, day)]
    )
    assert london_day(moment) == day
    rule = book.rule(AgencyKind.POLICE_DESK, DeadlineClock.TRIAGE, RiskGrade.STANDARD, day)
    assert rule == DeadlineRule(RuleKind.ELAPSED_HOURS, 2)


def test_a_grade_of_its_own_beats_every_grade_and_none_switches_a_clock_off() -> None:
    kind = AgencyKind.CHILDRENS_SOCIAL_CARE
    book = deadlines.PolicyBook(
        [
            policy(
                kind, DeadlineClock.DECISION, RuleKind.WORKING_DAYS, 2, date(2026, 1, 1), ident=1
            ),
            policy(
                kind,
                DeadlineClock.DECISION,
                RuleKind.WORKING_HOURS,
                4,
                date(2025, 1, 1),
                RiskGrade.HIGH,
                ident=2,
            ),
            policy(
                kind, DeadlineClock.DECISION, RuleKind.NO_DEADLINE, 1, date(2026, 6, 1), ident=3
            ),
        ]
    )
    day = date(2026, 3, 1)
    assert book.rule(kind, DeadlineClock.DECISION, RiskGrade.HIGH, day) == DeadlineRule(
        RuleKind.WORKING_HOURS, 4
    )
    assert book.rule(kind, DeadlineClock.DECISION, RiskGrade.MEDIUM, day) == DeadlineRule(
        RuleKind.WORKING_DAYS, 2
    )
    assert book.rule(kind, DeadlineClock.DECISION, RiskGrade.MEDIUM, date(2026, 7, 1)) is None


def test_the_decision_clock_of_children_s_social_care_and_none_for_schools() -> None:
    sent = london(2026, 11, 20, 16, 30)  # Friday afternoon
    door = agency(AgencyKind.CHILDRENS_SOCIAL_CARE)
    clocks = deadlines.referral_clocks(BOOK, door, RiskGrade.MEDIUM, sent, sent, (WORK, None))
    assert clocks.due_at == clocks.decision_due_at == london(2026, 11, 23, 16, 30)
    school = agency(AgencyKind.SCHOOL)
    clocks = deadlines.referral_clocks(
        BOOK, school, RiskGrade.MEDIUM, sent, sent, (WORK, SchoolCalendar())
    )
    assert clocks.due_at == london(2026, 11, 23, 8, 30) and clocks.decision_due_at is None


@pytest.mark.parametrize(
    ("kind", "grade", "now", "due", "expected"),
    [
        # A school's notice goes at once, at any hour: its deadline is before the working day.
        (
            AgencyKind.SCHOOL,
            RiskGrade.STANDARD,
            london(2026, 11, 23, 22),
            london(2026, 11, 24, 8, 30),
            london(2026, 11, 23, 22),
        ),
        # Social care, Friday night: held for Monday 09:00, still before Monday 17:00's due time.
        (
            AgencyKind.CHILDRENS_SOCIAL_CARE,
            RiskGrade.MEDIUM,
            london(2026, 11, 20, 21),
            london(2026, 11, 23, 17),
            london(2026, 11, 23, 9),
        ),
        # Never held past the due time it announces: due before the next working moment.
        (
            AgencyKind.CHILDRENS_SOCIAL_CARE,
            RiskGrade.MEDIUM,
            london(2026, 11, 20, 21),
            london(2026, 11, 23, 8),
            london(2026, 11, 20, 21),
        ),
        (
            AgencyKind.MARAC,
            RiskGrade.HIGH,
            london(2026, 11, 21, 3),
            london(2026, 11, 21, 4),
            london(2026, 11, 21, 3),
        ),
    ],
)
def test_notices_are_never_held_past_their_due_time(
    kind: AgencyKind, grade: RiskGrade, now: datetime, due: datetime, expected: datetime
) -> None:
    sent = deadlines.notice_time(agency(kind), grade, due, now.astimezone(UTC), WORK)
    assert sent == expected.astimezone(UTC) and sent <= due


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        # The reminder is at the due time itself, even at close of business or before opening.
        (
            london(2026, 11, 24, 17),
            [london(2026, 11, 24, 17), london(2026, 11, 25, 11), london(2026, 11, 25, 13)],
        ),
        (
            london(2026, 11, 24, 8, 30),
            [london(2026, 11, 24, 8, 30), london(2026, 11, 24, 11), london(2026, 11, 24, 13)],
        ),
    ],
)
def test_ladder_steps_reminder_at_the_due_time(due: datetime, expected: list[datetime]) -> None:
    times = [
        escalation.step_time(due, level, LADDER, high_risk=False, working=WORK)
        for level in range(3)
    ]
    assert times == [e.astimezone(UTC) for e in expected]
    assert escalation.step_time(due, 3, LADDER, high_risk=False, working=WORK) is None
    # High risk counts elapsed hours, through the night.
    high = escalation.step_time(due, 2, LADDER, high_risk=True, working=WORK)
    assert high == due + timedelta(hours=LADDER[EscalationStep.SUPERVISOR])
