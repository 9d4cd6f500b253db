"""Deadlines on the right calendars: the hard cases by name, then properties over two years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referrals.calendars import DeadlineRule, RuleKind, SchoolCalendar, WorkingCalendar, due_time
from referrals.clock import LONDON

WORK = WorkingCalendar()
SCHOOL = SchoolCalendar()
ONE_DAY = DeadlineRule(RuleKind.WORKING_DAYS, 1)
FOUR_HOURS = DeadlineRule(RuleKind.WORKING_HOURS, 4)
SCHOOL_DAY = DeadlineRule(RuleKind.NEXT_SCHOOL_DAY_START)


def london(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


def due(rule: DeadlineRule, received: datetime, school: SchoolCalendar = SCHOOL) -> datetime:
    return due_time(rule, received, now=received, working=WORK, school=school).astimezone(LONDON)


@pytest.mark.parametrize(
    ("name", "rule", "received", "expected"),
    [
        (
            "Friday evening, social care",
            ONE_DAY,
            london(2026, 11, 20, 19),
            london(2026, 11, 23, 17),
        ),
        (
            "Friday evening, school",
            SCHOOL_DAY,
            london(2026, 11, 20, 19),
            london(2026, 11, 23, 8, 30),
        ),
        (
            "Friday afternoon, 4 working hours",
            FOUR_HOURS,
            london(2026, 11, 20, 15),
            london(2026, 11, 23, 11),
        ),
        ("Thursday before Good Friday", ONE_DAY, london(2026, 4, 2, 12), london(2026, 4, 7, 12)),
        (
            "Good Friday itself, school",
            SCHOOL_DAY,
            london(2026, 4, 3, 10),
            london(2026, 4, 7, 8, 30),
        ),
        ("Easter Monday, social care", ONE_DAY, london(2026, 4, 6, 10), london(2026, 4, 7, 17)),
        (
            "Christmas Eve afternoon",
            ONE_DAY,
            london(2026, 12, 24, 16),
            london(2026, 12, 29, 16),
        ),  # 25th, 26th-28th (Boxing Day observed on Monday) are closed
        ("New Year's Eve evening", ONE_DAY, london(2026, 12, 31, 20), london(2027, 1, 4, 17)),
        ("Christmas Day, school", SCHOOL_DAY, london(2026, 12, 25, 9), london(2026, 12, 29, 8, 30)),
        (
            "received 08:29 on a school day",
            SCHOOL_DAY,
            london(2026, 11, 24, 8, 29),
            london(2026, 11, 24, 8, 30),
        ),
        (
            "received 08:31 on a school day",
            SCHOOL_DAY,
            london(2026, 11, 24, 8, 31),
            london(2026, 11, 25, 8, 30),
        ),
        (
            "received at 08:30 exactly",
            SCHOOL_DAY,
            london(2026, 11, 24, 8, 30),
            london(2026, 11, 25, 8, 30),
        ),
    ],
)
def test_named_hard_cases(
    name: str, rule: DeadlineRule, received: datetime, expected: datetime
) -> None:
    assert due(rule, received) == expected, name


def test_first_day_after_half_term() -> None:
    half_term = SchoolCalendar(
        closed=frozenset(date(2026, 10, 26) + timedelta(days=i) for i in range(5))
    )
    assert due(SCHOOL_DAY, london(2026, 10, 23, 18), half_term) == london(2026, 11, 2, 8, 30)
    assert due(SCHOOL_DAY, london(2026, 10, 28, 11), half_term) == london(2026, 11, 2, 8, 30)


def test_inset_day_is_skipped_and_a_later_start_is_honoured() -> None:
    inset = SchoolCalendar(day_start=time(8, 45), closed=frozenset({date(2026, 11, 23)}))
    assert due(SCHOOL_DAY, london(2026, 11, 20, 19), inset) == london(2026, 11, 24, 8, 45)


def test_the_nights_the_clocks_change() -> None:
    # Spring forward: Sunday 29 March 2026. Monday's 08:30 is BST (07:30 UTC).
    monday = due(SCHOOL_DAY, london(2026, 3, 27, 18))
    assert monday == london(2026, 3, 30, 8, 30)
    assert monday.astimezone(UTC).hour == 7
    # Fall back: Sunday 25 October 2026. Monday's 08:30 is GMT (08:30 UTC).
    after = due(SCHOOL_DAY, london(2026, 10, 23, 18))
    assert after.astimezone(UTC) == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
    # Four elapsed hours across the spring-forward night are four real hours, not five.
    elapsed = DeadlineRule(RuleKind.ELAPSED_HOURS, 4)
    start = london(2026, 3, 28, 23)
    assert due(elapsed, start).astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=4)
    assert due(elapsed, start) == london(2026, 3, 29, 4)  # the local clock skipped an hour
    # Working time over the weekend of the change is unaffected.
    assert due(ONE_DAY, london(2026, 10, 23, 16)) == london(2026, 10, 26, 16)


def test_never_in_the_past_when_set() -> None:
    received = london(2026, 11, 16, 10)  # Monday; sent on Wednesday
    sent = london(2026, 11, 18, 14)
    assert due_time(ONE_DAY, received, now=sent, working=WORK) == london(2026, 11, 19, 14)


def test_working_between_and_agency_hours() -> None:
    late = WorkingCalendar(start=time(10), end=time(18))
    assert late.add_working(london(2026, 11, 20, 17), timedelta(hours=2)) == london(
        2026, 11, 23, 11
    )
    friday_to_monday = WORK.working_between(london(2026, 11, 20, 16), london(2026, 11, 23, 10))
    assert friday_to_monday == timedelta(hours=2)
    with pytest.raises(ValueError):
        WorkingCalendar(start=time(17), end=time(9))


# --- properties over two years of received times ------------------------------------------------

RECEIVED = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - Hypothesis wants naive bounds
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
RULES = st.sampled_from(
    [
        ONE_DAY,
        FOUR_HOURS,
        SCHOOL_DAY,
        DeadlineRule(RuleKind.WORKING_DAYS, 3),
        DeadlineRule(RuleKind.WORKING_HOURS, 1),
    ]
)
EXTRA_DAYS = st.lists(
    st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 3, 1)), max_size=8
).map(frozenset)


@settings(max_examples=400, deadline=None)
@given(received=RECEIVED, rule=RULES)
def test_due_is_after_receipt_and_on_a_working_moment_or_school_day_start(
    received: datetime, rule: DeadlineRule
) -> None:
    result = due_time(rule, received, now=received, working=WORK, school=SCHOOL)
    assert result > received
    if rule.kind is RuleKind.NEXT_SCHOOL_DAY_START:
        local = result.astimezone(LONDON)
        assert local.time() == time(8, 30)
        assert SCHOOL.is_school_day(local.date())
    else:
        assert WORK.is_working_moment(result, closing_included=True)


@settings(max_examples=300, deadline=None)
@given(received=RECEIVED, rule=RULES, extra=EXTRA_DAYS)
def test_adding_a_holiday_never_makes_a_deadline_earlier(
    received: datetime, rule: DeadlineRule, extra: frozenset[date]
) -> None:
    before = due_time(rule, received, now=received, working=WORK, school=SCHOOL)
    after = due_time(
        rule,
        received,
        now=received,
        working=WorkingCalendar(closed=extra),
        school=SchoolCalendar(closed=extra),
    )
    assert after >= before


@settings(max_examples=200, deadline=None)
@given(received=RECEIVED, hours=st.integers(min_value=0, max_value=40))
def test_working_time_added_is_working_time_between(received: datetime, hours: int) -> None:
    end = WORK.add_working(received, timedelta(hours=hours))
    assert WORK.working_between(received, end) == timedelta(hours=hours)
