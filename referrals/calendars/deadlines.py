"""Deadline rules: data (a kind and an amount) turned into a due time on the right calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from referrals.calendars.working import SchoolCalendar, WorkingCalendar


class RuleKind(StrEnum):
    NEXT_SCHOOL_DAY_START = "next_school_day_start"
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    ELAPSED_HOURS = "elapsed_hours"
    NO_DEADLINE = "none"  # a clock this kind of agency does not have (a school's decision)

    @property
    def label(self) -> str:
        return {
            "next_school_day_start": "Start of the next school day",
            "working_days": "Working days",
            "working_hours": "Working hours",
            "elapsed_hours": "Hours, around the clock",
            "none": "No deadline",
        }[self.value]


@dataclass(frozen=True)
class DeadlineRule:
    kind: RuleKind
    amount: int = 1

    def describe(self) -> str:
        if self.kind is RuleKind.NEXT_SCHOOL_DAY_START:
            return "before the start of the next school day"
        if self.kind is RuleKind.NO_DEADLINE:
            return "no deadline"
        unit = {
            RuleKind.WORKING_DAYS: "working day",
            RuleKind.WORKING_HOURS: "working hour",
            RuleKind.ELAPSED_HOURS: "hour",
        }[self.kind]
        return f"{self.amount} {unit}{'s' if self.amount != 1 else ''}"


def due_time(
    rule: DeadlineRule,
    received: datetime,
    *,
    now: datetime,
    working: WorkingCalendar,
    school: SchoolCalendar | None = None,
) -> datetime:
    """When a referral is due. Counted from receipt, or from ``now`` if the referral goes out
    later than that, so a due time is never in the past when it is set."""
    if received.tzinfo is None or now.tzinfo is None:
        raise ValueError("deadlines need timezone-aware datetimes")
    start = max(received, now).astimezone(UTC)
    if rule.kind is RuleKind.NO_DEADLINE:
        raise ValueError("a rule of no deadline has no due time")
    if rule.kind is RuleKind.NEXT_SCHOOL_DAY_START:
        return (school or SchoolCalendar()).next_day_start(start)
    if rule.kind is RuleKind.WORKING_DAYS:
        return working.add_working(start, working.day_length * rule.amount)
    if rule.kind is RuleKind.WORKING_HOURS:
        return working.add_working(start, timedelta(hours=rule.amount))
    return start + timedelta(hours=rule.amount)
