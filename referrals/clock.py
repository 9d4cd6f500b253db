"""The single source of "now". Tests move it; nothing else reads the wall clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_frozen: datetime | None = None
_followed: Path | None = None


def now() -> datetime:
    """Timezone-aware UTC now (or the time a test froze, or the time in the file a test's
    scheduler process follows)."""
    if _frozen is not None:
        return _frozen
    if _followed is not None:
        return datetime.fromisoformat(_followed.read_text().strip()).astimezone(UTC)
    return datetime.now(UTC)


def wall() -> datetime:
    """The machine's own time, never moved by a test: for APScheduler, which schedules its
    jobs on it. Business rules always read :func:`now`."""
    return datetime.now(UTC)


def follow(path: Path | None) -> None:
    """Read "now" from a file at every call (ISO 8601 with an offset): a test moves the clock
    of a real scheduler process this way. The scheduler command allows it only in tests."""
    global _followed
    _followed = path


def freeze(at: datetime | None) -> None:
    """Freeze the clock at an aware time, or release it with ``None``."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    previous = _frozen
    freeze(at)
    try:
        yield
    finally:
        freeze(previous)


def to_london(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


def london_day(moment: datetime) -> date:
    """The London calendar day a moment falls on."""
    return to_london(moment).date()


def london_today() -> date:
    return london_day(now())


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants from the London midnight that starts ``first`` to the one that ends
    ``last`` (a day is 23 or 25 hours when the clocks change)."""
    start = datetime.combine(first, time(0), tzinfo=LONDON)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


# The one way a moment and a date are shown, on every page, in history rows and in e-mails:
# London time, "21 Nov 2026 16:14"; a date of birth or another plain date, "3 September 2018".
MOMENT_FORMAT = "%-d %b %Y %H:%M"
DATE_FORMAT = "%-d %B %Y"


def shown(moment: datetime | None, *, seconds: bool = False) -> str:
    """A moment as "21 Nov 2026 16:14" ("16:14:05" with seconds: the audit trail)."""
    if moment is None:
        return "—"
    return to_london(moment).strftime(MOMENT_FORMAT + (":%S" if seconds else ""))


def shown_date(day: date | str | None) -> str:
    """A date as "3 September 2018" (an ISO date in text too: a sealed date of birth)."""
    if isinstance(day, str):
        try:
            return date.fromisoformat(day).strftime(DATE_FORMAT)
        except ValueError:
            return day
    return day.strftime(DATE_FORMAT) if day is not None else "—"
