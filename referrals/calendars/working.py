"""Working days and hours, and school days, on the England and Wales calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays

from referrals.clock import LONDON

WEEKDAYS = frozenset(range(5))  # Monday to Friday
SEARCH_DAYS = 800  # no calendar is closed for longer than this; beyond it, something is wrong


class CalendarError(ValueError):
    """The calendar has no open time within the search horizon (everything closed?)."""


@cache
def _bank_holidays_for(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays (including substitute days) from the `holidays` library."""
    return _bank_holidays_for(year)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working time for one agency: weekdays, hours, bank holidays and any extra closed days."""

    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = WEEKDAYS
    closed: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("a working day must start before it ends")

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in self.weekdays
            and day not in bank_holidays(day.year)
            and day not in self.closed
        )

    def window(self, day: date) -> tuple[datetime, datetime]:
        return _local(day, self.start), _local(day, self.end)

    def is_working_moment(self, moment: datetime, *, closing_included: bool = False) -> bool:
        """Within working hours. A deadline "by close of business" falls on the closing minute,
        so callers checking deadlines pass ``closing_included=True``."""
        day = moment.astimezone(LONDON).date()
        if not self.is_working_day(day):
            return False
        opens, closes = self.window(day)
        return opens <= moment < closes or (closing_included and moment == closes)

    def next_working_moment(self, moment: datetime) -> datetime:
        day = moment.astimezone(LONDON).date()
        for offset in range(SEARCH_DAYS):
            current = day + timedelta(days=offset)
            if self.is_working_day(current):
                opens, closes = self.window(current)
                if closes > moment:
                    return max(opens, moment).astimezone(UTC)
        raise CalendarError("no working time in the next two years")

    def add_working(self, moment: datetime, duration: timedelta) -> datetime:
        """The moment when ``duration`` of working time has passed after ``moment``."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        remaining = duration
        day = moment.astimezone(LONDON).date()
        for offset in range(SEARCH_DAYS * 4):
            current = day + timedelta(days=offset)
            if not self.is_working_day(current):
                continue
            opens, closes = self.window(current)
            if closes <= moment:
                continue
            begin = max(opens, moment)
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        raise CalendarError("the deadline falls more than eight years away")

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(LONDON).date()
        last = end.astimezone(LONDON).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self.window(day)
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class SchoolCalendar:
    """A school's days: weekdays, minus bank holidays, minus the term breaks, INSET days and
    closures loaded for its borough or for the school itself."""

    day_start: time = time(8, 30)
    closed: frozenset[date] = field(default_factory=frozenset)

    def is_school_day(self, day: date) -> bool:
        return (
            day.weekday() in WEEKDAYS
            and day not in bank_holidays(day.year)
            and day not in self.closed
        )

    def start_of(self, day: date) -> datetime:
        return _local(day, self.day_start)

    def next_day_start(self, after: datetime) -> datetime:
        """The start of the first school day that begins strictly after ``after``."""
        day = after.astimezone(LONDON).date()
        for offset in range(SEARCH_DAYS):
            current = day + timedelta(days=offset)
            if self.is_school_day(current):
                begins = self.start_of(current)
                if begins > after:
                    return begins
        raise CalendarError("no school day in the next two years")
