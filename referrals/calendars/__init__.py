"""Working time, bank holidays and school days. Pure: no database, no clock, no app.

Every function takes timezone-aware datetimes and returns them in UTC; the rules are computed in
Europe/London, so the nights the clocks change are handled by the zone database, not by us.
"""

from referrals.calendars.deadlines import DeadlineRule, RuleKind, due_time
from referrals.calendars.working import (
    SchoolCalendar,
    WorkingCalendar,
    bank_holidays,
)

__all__ = [
    "DeadlineRule",
    "RuleKind",
    "SchoolCalendar",
    "WorkingCalendar",
    "bank_holidays",
    "due_time",
]
