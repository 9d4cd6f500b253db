"""The single source of "now". Tests move it; nothing else reads the wall clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_frozen: datetime | None = None


def now() -> datetime:
    """Timezone-aware UTC now (or the time a test froze)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at an aware time, or release it with ``None``."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None


def advance(delta: timedelta) -> None:
    global _frozen
    _frozen = now() + delta


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
