"""Counts of open work that cost the same at ten thousand incidents as at a million.

"Overdue" is every open referral whose clock is running minus those not yet due: the first is
the sum of the few rows of ``open_work_counts`` (kept by triggers, see
``referrals.models.open_work``), the second a range of the due-time index over what is still
ahead, which is only as long as the work that came in recently. Neither reads history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, insert, literal, select, true, union_all

from referrals.extensions import db
from referrals.models.open_work import OpenWorkCount
from referrals.models.referral import DUE_SOON, OPEN_STATES, Referral, ReferralState


@dataclass(frozen=True)
class OpenWork:
    """Per open state: all referrals, those with a running clock, those of them not yet due,
    and those due within ``DUE_SOON``."""

    total: dict[ReferralState, int]
    running: dict[ReferralState, int]
    ahead: dict[ReferralState, int]
    soon: dict[ReferralState, int]

    def overdue(self, *states: ReferralState) -> int:
        """Running, in one of ``states``, and past due."""
        return sum(self.running[s] - self.ahead[s] for s in states)

    def count(self, *states: ReferralState) -> int:
        return sum(self.total[s] for s in states)

    def due_soon(self) -> int:
        return sum(self.soon.values())


def open_work(now: datetime, agency_id: int | None = None) -> OpenWork:
    """The counts for one agency, or for every agency: one query of two small parts."""
    kept = select(
        literal(0),
        OpenWorkCount.state,
        OpenWorkCount.running,
        func.sum(OpenWorkCount.n),
        literal(0),
    ).group_by(OpenWorkCount.state, OpenWorkCount.running)
    due = Referral.clock_due_at
    upcoming = (
        select(
            literal(1),
            Referral.state,
            true(),
            func.count(),
            func.count(case((due < now + DUE_SOON, 1))),
        )
        .where(due >= now, Referral.paused_at.is_(None), Referral.state.in_(OPEN_STATES))
        .group_by(Referral.state)
    )
    if agency_id is not None:
        kept = kept.where(OpenWorkCount.agency_id == agency_id)
        upcoming = upcoming.where(Referral.agency_id == agency_id)
    total, running, ahead, soon = (dict.fromkeys(OPEN_STATES, 0) for _ in range(4))
    for part, state, is_running, n, within in db.session.execute(union_all(kept, upcoming)):
        if part == 0:
            total[state] += int(n)
            running[state] += int(n) if is_running else 0
        else:
            ahead[state], soon[state] = int(n), int(within)
    return OpenWork(total=total, running=running, ahead=ahead, soon=soon)


def compact() -> int:
    """Fold the triggers' +1/-1 rows into one row per agency, state and running clock (the
    scheduler, every few minutes); the rows there were. Concurrent writers lose nothing: on
    PostgreSQL one statement deletes what its snapshot sees and inserts their sums; SQLite has
    one writer at a time."""
    before = int(db.session.scalar(select(func.count()).select_from(OpenWorkCount)) or 0)
    key = (OpenWorkCount.agency_id, OpenWorkCount.state, OpenWorkCount.running)
    if db.session.get_bind().dialect.name == "postgresql":
        gone = delete(OpenWorkCount).returning(*key, OpenWorkCount.n).cte("gone")
        keys = (gone.c.agency_id, gone.c.state, gone.c.running)
        sums = select(*keys, func.sum(gone.c.n)).group_by(*keys).having(func.sum(gone.c.n) != 0)
        db.session.execute(
            insert(OpenWorkCount).from_select([*key, OpenWorkCount.n], sums).add_cte(gone)
        )
        return before
    rows = db.session.execute(
        select(*key, func.sum(OpenWorkCount.n))
        .group_by(*key)
        .having(func.sum(OpenWorkCount.n) != 0)
    ).all()
    db.session.execute(delete(OpenWorkCount))
    if rows:
        db.session.execute(
            insert(OpenWorkCount),
            [{"agency_id": a, "state": s, "running": r, "n": n} for a, s, r, n in rows],
        )
    return before
