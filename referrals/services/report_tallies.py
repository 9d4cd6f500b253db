"""Keeping the reports' daily tallies (``models/report.py``) up to date.

The scheduler calls :func:`refresh` every few minutes. It recounts, from the referrals and
incidents themselves, every London day that something may have changed: the days of the last
``RECENT`` (their due times are still passing), and the days of any referral moved or incident
amended since the last refresh (``referrals.updated_at`` is set by the one transition writer). The
first refresh counts every day. A day is recounted whole and replaced in one transaction, so a
report never sees half a day; the state row is locked while a refresh runs, so two schedulers do
not both write a day.

:func:`tally_referrals` is the one definition of what a referral counts for; the reports also
call it directly for a single school, which the stored tallies hold only per borough.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, delete, false, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import Incident, RiskGrade
from referrals.models.referral import Referral, ReferralState
from referrals.models.report import (
    DESK_COUNTS,
    REFERRAL_COUNTS,
    WAIT_BANDS,
    WAIT_CLOCKS,
    band_columns,
    report_answer_weeks,
    report_answers,
    report_days,
    report_desk_days,
    report_state,
    report_weeks,
)

DAY_COUNTS = (*REFERRAL_COUNTS, *(c for name in WAIT_CLOCKS for c in band_columns(name)))
RECENT = timedelta(days=14)
# A change committed while a refresh was reading is caught by the next one.
OVERLAP = timedelta(minutes=5)

# (day, borough, risk, agency kind, agency id or None for a school tallied per borough)
Key = tuple[date, str | None, RiskGrade, AgencyKind, int | None]


def wait_band(minutes: float) -> int:
    """The band of ``WAIT_BANDS`` a wait falls in: a wait of exactly 60 minutes is "within 1 h"."""
    return bisect_left(WAIT_BANDS, minutes)


def referral_facts() -> Select[*tuple[Any, ...]]:
    """What a referral is tallied by, joined once (the reports use it for a single school)."""
    return (
        select(
            Referral.sent_at,
            Referral.agency_id,
            Agency.kind,
            Agency.borough_code,
            Incident.risk_grade,
            Referral.state,
            Referral.due_at,
            Referral.acknowledged_at,
            Referral.decided_at,
            Referral.decision,
            Referral.decline_category,
        )
        .join(Agency, Agency.id == Referral.agency_id)
        .join(Incident, Incident.id == Referral.incident_id)
    )


@dataclass
class Tallies:
    days: dict[Key, Counter[str]]
    answers: Counter[tuple[Key, str, str]]


def tally_referrals(rows: Iterable[Any], now: datetime, *, per_school: bool = False) -> Tallies:
    """Each referral's counts under its key: how its acknowledgement clock ended (on time, late,
    overdue, still awaited), whether it was declined, withdrawn or decided, the band of each wait,
    and its decision or decline reason."""
    days: dict[Key, Counter[str]] = {}
    answers: Counter[tuple[Key, str, str]] = Counter()
    for row in rows:
        (sent_at, agency_id, kind, borough, risk, state, due_at, acked, decided, outcome, why) = row
        school = kind is AgencyKind.SCHOOL and not per_school
        key: Key = (clock.london_day(sent_at), borough, risk, kind, None if school else agency_id)
        counts = days.setdefault(key, Counter())
        counts["sent"] += 1
        if acked is not None:
            counts["ack_on_time" if acked <= due_at else "ack_late"] += 1
            counts[f"ack_{wait_band((acked - sent_at).total_seconds() / 60)}"] += 1
        elif state not in (ReferralState.DECLINED, ReferralState.WITHDRAWN):
            counts["overdue" if due_at < now else "awaiting"] += 1
        if state is ReferralState.DECLINED:
            counts["declined"] += 1
            answers[(key, "decline", why or "other")] += 1
        elif state is ReferralState.WITHDRAWN:
            counts["withdrawn"] += 1
        if decided is not None:
            counts["decided"] += 1
            counts[f"decide_{wait_band((decided - sent_at).total_seconds() / 60)}"] += 1
            answers[(key, "decision", outcome or "unknown")] += 1
    return Tallies(days, answers)


def _desk_counts(
    where: Sequence[ColumnElement[bool]], now: datetime
) -> dict[tuple[date, str, RiskGrade], Counter[str]]:
    rows = db.session.execute(
        select(
            Incident.received_at,
            Incident.borough_code,
            Incident.risk_grade,
            Incident.routed_at,
            Incident.triage_due_at,
            Incident.triage_late,
            Incident.share_by_at,
            Incident.share_late,
        ).where(*where)
    )
    counted: dict[tuple[date, str, RiskGrade], Counter[str]] = {}
    for received, borough, risk, routed, triage_due, triage_late, share_by, share_late in rows:
        counts = counted.setdefault((clock.london_day(received), borough, risk), Counter())
        counts["received"] += 1
        if routed is not None:
            counts["sent"] += 1
            counts["triage_late"] += int(triage_late)
        elif triage_due < now:
            counts["triage_overdue"] += 1
        if share_by is not None:
            counts["share_due"] += 1
            counts["share_late"] += int(share_late)
    return counted


def recount(days: Sequence[date], now: datetime) -> None:
    """Replace the tallies of each day (consecutive days are read together). The counts left
    by disposed incidents stay: their referrals are gone, their counts are not."""
    for first, last in _runs(sorted(set(days))):
        start, end = clock.day_bounds(first, last)
        facts = db.session.execute(
            referral_facts().where(Referral.sent_at >= start, Referral.sent_at < end)
        )
        tallies = tally_referrals(facts, now)
        desk = _desk_counts((Incident.received_at >= start, Incident.received_at < end), now)
        for table in (report_days, report_answers, report_desk_days):
            db.session.execute(
                delete(table).where(
                    table.c.day >= first, table.c.day <= last, table.c.disposed == false()
                )
            )
        _store(tallies, desk, disposed=False)
    roll_up_weeks(days)
    # What was computed from the tallies (the reports kept in memory) no longer holds.
    db.session.execute(update(report_state).values(version=report_state.c.version + 1))


# Each weekly roll-up, the daily table it sums, and the columns it sums them by.
_ROLL_UPS = (
    (report_weeks, report_days, DAY_COUNTS),
    (report_answer_weeks, report_answers, ("count",)),
)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def roll_up_weeks(days: Iterable[date]) -> None:
    """Replace the weekly sums of every week holding one of ``days`` with the sums of its
    days as they now stand (each week whole: a week is never half rolled up)."""
    for monday in sorted({monday_of(day) for day in days}):
        for weekly, daily, counts in _ROLL_UPS:
            dims = [c.name for c in weekly.c if c.name not in counts and c.name != "day"]
            db.session.execute(delete(weekly).where(weekly.c.day == monday))
            db.session.execute(
                insert(weekly).from_select(
                    ["day", *dims, *counts],
                    select(
                        literal(monday, Date()),
                        *(daily.c[name] for name in dims),
                        *(func.sum(daily.c[name]) for name in counts),
                    )
                    .where(daily.c.day >= monday, daily.c.day <= monday + timedelta(days=6))
                    .group_by(*(daily.c[name] for name in dims)),
                )
            )


def keep_disposed(incident_id: int, now: datetime) -> list[date]:
    """Keep an incident's counts, as they stand, before it is erased: all that disposal leaves.
    Returns the days they fall on, which the caller recounts once the incident is gone (their
    stored rows still count it among the living)."""
    facts = db.session.execute(referral_facts().where(Referral.incident_id == incident_id))
    tallies = tally_referrals(facts, now)
    desk = _desk_counts((Incident.id == incident_id,), now)
    _store(tallies, desk, disposed=True)
    return sorted({key[0] for key in tallies.days} | {key[0] for key in desk})


def _store(
    tallies: Tallies,
    desk: dict[tuple[date, str, RiskGrade], Counter[str]],
    *,
    disposed: bool,
) -> None:
    dims = ("day", "borough_code", "risk_grade", "agency_kind", "agency_id")
    if tallies.days:
        db.session.execute(
            insert(report_days),
            [
                {
                    **dict(zip(dims, key, strict=True)),
                    **_every(DAY_COUNTS, counts),
                    "disposed": disposed,
                }
                for key, counts in tallies.days.items()
            ],
        )
    if tallies.answers:
        db.session.execute(
            insert(report_answers),
            [
                {
                    **dict(zip(dims, key, strict=True)),
                    "answer": answer,
                    "code": code,
                    "count": n,
                    "disposed": disposed,
                }
                for (key, answer, code), n in tallies.answers.items()
            ],
        )
    if desk:
        db.session.execute(
            insert(report_desk_days),
            [
                {
                    "day": day,
                    "borough_code": borough,
                    "risk_grade": risk,
                    **_every(DESK_COUNTS, counts),
                    "disposed": disposed,
                }
                for (day, borough, risk), counts in desk.items()
            ],
        )


def _every(names: Iterable[str], counts: Counter[str]) -> dict[str, int]:
    """Every column of a row, 0 where nothing was counted (one insert of many rows binds the
    same columns in each)."""
    return {name: counts[name] for name in names}


def _runs(days: list[date], longest: int = 31) -> Iterable[tuple[date, date]]:
    """Consecutive days as (first, last) runs of at most ``longest`` days."""
    first = previous = None
    for day in days:
        if first is None or previous is None:
            first = previous = day
        elif day == previous + timedelta(days=1) and (day - first).days < longest:
            previous = day
        else:
            yield first, previous
            first = previous = day
    if first is not None and previous is not None:
        yield first, previous


def refreshed_at() -> datetime | None:
    value: datetime | None = db.session.scalar(select(report_state.c.refreshed_at))
    return value


def counted() -> tuple[datetime | None, int]:
    """When the tallies were last brought up to date, and how many times they have been
    recounted (a refresh, a disposal): what was computed from them holds until that moves."""
    found = db.session.execute(select(report_state.c.refreshed_at, report_state.c.version)).first()
    return (found[0], int(found[1])) if found is not None else (None, 0)


def forget() -> None:
    """Forget when the tallies were counted: the next refresh recounts every day."""
    db.session.execute(update(report_state).values(refreshed_at=None))


def refresh(now: datetime) -> int:
    """Bring the tallies up to date; returns how many days were recounted. The caller commits.

    The state row is locked first (on SQLite every writer already waits its turn), so a second
    scheduler's refresh waits for the first and then counts only what changed after it."""
    if db.session.scalar(select(func.count()).select_from(report_state)) == 0:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(report_state).values(id=1, refreshed_at=None))
        except IntegrityError:
            pass  # another refresh made it first: it is locked below until that one commits
    since = db.session.scalar(select(report_state.c.refreshed_at).with_for_update())
    days = _every_day(now) if since is None else _changed_days(since - OVERLAP, now)
    recount(sorted(days), now)
    db.session.execute(update(report_state).values(refreshed_at=now))
    return len(days)


def _every_day(now: datetime) -> set[date]:
    first_sent = db.session.scalar(select(func.min(Referral.sent_at)))
    first_received = db.session.scalar(select(func.min(Incident.received_at)))
    firsts = [clock.london_day(m) for m in (first_sent, first_received) if m is not None]
    if not firsts:
        return set()
    today = clock.london_day(now)
    start = min(firsts)
    return {start + timedelta(days=n) for n in range((today - start).days + 1)}


def _changed_days(since: datetime, now: datetime) -> set[date]:
    today = clock.london_day(now)
    days = {today - timedelta(days=n) for n in range(RECENT.days + 1)}
    moved = select(Referral.sent_at).where(Referral.updated_at >= since)
    amended = select(Incident.id).where(Incident.amended_at >= since)
    of_amended = select(Referral.sent_at).where(Referral.incident_id.in_(amended))
    routed = select(Incident.received_at).where(
        (Incident.routed_at >= since) | (Incident.amended_at >= since)
    )
    for statement in (moved, of_amended, routed):
        days.update(clock.london_day(moment) for moment in db.session.scalars(statement.distinct()))
    return days
