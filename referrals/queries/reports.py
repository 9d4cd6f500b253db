"""The supervisors' reports: figures for a period under filters, summed from the daily tallies
(``models/report.py``), or counted from a school's own referrals when one school is the filter.

Every figure a page or an export shows is a property of :class:`Figures`, so the table, the
chart and the file say the same thing.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.sql import ColumnElement

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import Incident, RiskGrade
from referrals.models.referral import Referral
from referrals.models.report import (
    DESK_COUNTS,
    WAIT_BANDS,
    band_columns,
    report_answer_weeks,
    report_answers,
    report_days,
    report_desk_days,
    report_weeks,
)
from referrals.narrowing import given
from referrals.profiles import PROFILES
from referrals.reference import BOROUGHS
from referrals.services import report_tallies

COUNTED = report_tallies.DAY_COUNTS
LONGEST_PERIOD = timedelta(days=2 * 366)


PERIODS = (
    ("this_week", "This week"),
    ("last_4_weeks", "The last 4 weeks"),
    ("this_quarter", "This quarter"),
    ("last_quarter", "The last quarter"),
    ("custom", "Dates I choose"),
)


def period_dates(period: str, today: date) -> tuple[date, date]:
    """The first and last day of a named period (``PERIODS``, not "custom"), up to today."""
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if period == "this_week":
        return today - timedelta(days=today.weekday()), today
    if period == "last_4_weeks":
        return today - timedelta(days=27), today
    if period == "this_quarter":
        return quarter_start, today
    if period == "last_quarter":
        last = quarter_start - timedelta(days=1)
        return date(last.year, 3 * ((last.month - 1) // 3) + 1, 1), last
    raise ValueError(f"not a named period: {period}")


@dataclass(frozen=True)
class ReportFilters:
    first: date
    last: date
    borough: str | None = None
    kind: AgencyKind | None = None
    agency: Agency | None = None
    risk: RiskGrade | None = None

    def chosen(self) -> dict[str, str]:
        """The filters as the export's audit event and file name give them."""
        chosen = {"from": self.first.isoformat(), "to": self.last.isoformat()}
        for name, value in (
            ("borough", self.borough),
            ("kind", self.kind and self.kind.value),
            ("agency", self.agency and self.agency.code),
            ("risk", self.risk and self.risk.value),
        ):
            if value:
                chosen[name] = value
        return chosen


def band_label(band: int) -> str:
    """ "within 2 h", "within 1 day"; the last band is "over 7 days"."""
    if band >= len(WAIT_BANDS):
        return f"over {_duration(WAIT_BANDS[-1])}"
    return f"within {_duration(WAIT_BANDS[band])}"


def _duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 1440:
        return f"{minutes // 60} h"
    days = minutes // 1440
    return f"{days} day{'s' if days > 1 else ''}"


@dataclass
class Figures:
    """Counts summed over some tallies, and what a report says of them."""

    label: str
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, counts: Counter[str] | dict[str, int]) -> None:
        self.counts.update(counts)

    def __getattr__(self, name: str) -> int:
        if name in COUNTED or name in DESK_COUNTS:
            return self.counts.get(name, 0)
        raise AttributeError(name)

    @property
    def breaches(self) -> int:
        """Acknowledged late, or overdue and not acknowledged yet."""
        return self.counts["ack_late"] + self.counts["overdue"]

    @property
    def on_time_rate(self) -> float | None:
        """Of the referrals whose acknowledgement was due, the share acknowledged on time."""
        due = self.counts["ack_on_time"] + self.breaches
        return self.counts["ack_on_time"] / due if due else None

    def bands(self, clock_name: str) -> list[int]:
        return [self.counts[c] for c in band_columns(clock_name)]

    def percentile(self, clock_name: str, share: float) -> str:
        """The band within which ``share`` of the waits ended: "within 4 h"; "—" with none."""
        bands = self.bands(clock_name)
        total = sum(bands)
        if not total:
            return "—"
        running = 0
        for band, n in enumerate(bands):
            running += n
            if running >= share * total:
                return band_label(band)
        return band_label(len(bands) - 1)  # pragma: no cover - the loop always returns

    @property
    def triage_on_time_rate(self) -> float | None:
        """Of the incidents whose triage deadline has come, the share sent by it."""
        due = self.counts["sent"] + self.counts["triage_overdue"]
        late = self.counts["triage_late"] + self.counts["triage_overdue"]
        return (due - late) / due if due else None

    @property
    def share_on_time_rate(self) -> float | None:
        due = self.counts["share_due"]
        return (due - self.counts["share_late"]) / due if due else None


@dataclass
class Report:
    filters: ReportFilters
    refreshed_at: datetime | None
    total: Figures
    weeks: list[Figures]
    boroughs: list[Figures]
    agencies: list[Figures]
    decisions: list[tuple[str, int]]
    declines: list[tuple[str, int]]
    desk_total: Figures
    desk_boroughs: list[Figures]

    def distribution(self, clock_name: str) -> list[tuple[str, int]]:
        return [(band_label(band), n) for band, n in enumerate(self.total.bands(clock_name))]


T = TypeVar("T")

# (day, borough, agency id or None for a borough's schools, counts)
TallyRow = tuple[date, str | None, int | None, Counter[str]]


class Kept(Generic[T]):
    """What was computed from the tallies, by its filters and the tallies' count of refreshes:
    each holds until the scheduler's next refresh, so supervisors looking at the same period (or
    going back to one) are answered from memory. A few dozen; one store per app (one database).
    """

    SIZE = 32

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.found: OrderedDict[tuple[object, ...], T] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> T | None:
        with self.lock:
            found = self.found.get(key)
            if found is not None:
                self.found.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], made: T) -> None:
        with self.lock:
            self.found[key] = made
            while len(self.found) > self.SIZE:
                self.found.popitem(last=False)

    def clear(self) -> None:
        """Drop them all (the bench, to time a report computed afresh)."""
        with self.lock:
            self.found.clear()


def kept(what: str) -> Kept[Any]:
    """The app's store of ``what`` ("reports", or a page's rendered figures)."""
    found: Kept[Any] = current_app.extensions.setdefault(f"kept_{what}", Kept())
    return found


@dataclass(frozen=True)
class Counted:
    """The tallies as a report reads them: when they were last brought up to date, and the key
    what is computed from them is kept under (the filters and the tallies' count of recounts;
    None before the first count, and for one school's figures, which are counted from its
    referrals each time)."""

    refreshed_at: datetime | None
    key: tuple[object, ...] | None


def counted(filters: ReportFilters) -> Counted:
    refreshed, version = report_tallies.counted()
    if refreshed is None or (
        filters.agency is not None and filters.agency.kind is AgencyKind.SCHOOL
    ):
        return Counted(refreshed, None)
    agency = filters.agency.id if filters.agency is not None else None
    key = (filters.first, filters.last, filters.borough, filters.kind, agency, filters.risk)
    return Counted(refreshed, (*key, version))


def report(filters: ReportFilters, tallies: Counted | None = None) -> Report:
    """The figures under the filters: from memory if the tallies have not moved since they
    were computed."""
    tallies = tallies or counted(filters)
    key = tallies.key
    found: Report | None = kept("reports").get(key) if key is not None else None
    if found is not None:
        return replace(found, filters=filters)  # the request's own filters (and agency row)
    made = _computed(filters, tallies.refreshed_at)
    if key is not None:
        kept("reports").put(key, replace(made, filters=replace(filters, agency=None)))
    return made


def _computed(filters: ReportFilters, refreshed: datetime | None) -> Report:
    if filters.agency is not None and filters.agency.kind is AgencyKind.SCHOOL:
        grouped, answers = _one_school(filters)
    else:
        grouped, answers = _stored(filters), _stored_answers(filters)
    total = Figures("All referrals")
    weeks: dict[date, Figures] = {}
    boroughs: dict[str | None, Figures] = {}
    agencies: dict[tuple[int | None, str | None], Figures] = {}
    for day, counts in grouped.days:
        monday = day - timedelta(days=day.weekday())
        weeks.setdefault(monday, Figures(f"w/c {monday.day} {monday:%b %Y}")).add(counts)
    for borough, counts in grouped.boroughs:
        total.add(counts)
        boroughs.setdefault(borough, Figures(_borough_name(borough))).add(counts)
    for agency_id, borough, counts in grouped.agencies:
        agencies.setdefault((agency_id, borough), Figures("")).add(counts)
    names = _agency_names({agency_id for agency_id, _ in agencies if agency_id is not None})
    for (agency_id, borough), figures in agencies.items():
        figures.label = (
            names.get(agency_id, "Unknown agency")
            if agency_id is not None
            else f"Schools in {_borough_name(borough)}"
        )
    desk_total, desk_boroughs = _desk(filters)
    return Report(
        filters=filters,
        refreshed_at=refreshed,
        total=total,
        weeks=[weeks[k] for k in sorted(weeks)],
        boroughs=sorted(boroughs.values(), key=lambda f: (-f.breaches, f.label)),
        agencies=sorted(agencies.values(), key=lambda f: (-f.sent, f.label)),
        decisions=_labelled(answers, "decision", OUTCOME_LABELS),
        declines=_labelled(answers, "decline", DECLINE_LABELS),
        desk_total=desk_total,
        desk_boroughs=desk_boroughs,
    )


def _where(c: Any, filters: ReportFilters, span: Span) -> list[ColumnElement[bool]]:
    """The span's days and the filters on the columns ``c`` of a tally table."""
    conditions: list[ColumnElement[bool]] = [c.day >= span.first, c.day <= span.last]
    if filters.borough:
        conditions.append(c.borough_code == filters.borough)
    if filters.kind:
        conditions.append(c.agency_kind == filters.kind)
    if filters.agency is not None:
        conditions.append(c.agency_id == filters.agency.id)
    if filters.risk:
        conditions.append(c.risk_grade == filters.risk)
    return conditions


@dataclass(frozen=True)
class Span:
    """Part of a period, read from the weekly roll-ups (``first`` and ``last`` are Mondays) or
    from the daily tallies."""

    first: date
    last: date
    weekly: bool


def spans(first: date, last: date) -> list[Span]:
    """The weeks a period covers whole, from the roll-ups; the days before and after them."""
    monday = report_tallies.monday_of(first + timedelta(days=6))  # the first whole week's
    last_monday = report_tallies.monday_of(last + timedelta(days=1)) - timedelta(days=7)
    if last_monday < monday:
        return [Span(first, last, weekly=False)]
    found = [Span(monday, last_monday, weekly=True)]
    if first < monday:
        found.append(Span(first, monday - timedelta(days=1), weekly=False))
    if last_monday + timedelta(days=6) < last:
        found.append(Span(last_monday + timedelta(days=7), last, weekly=False))
    return found


@dataclass
class Grouped:
    """The tallies summed three ways: per day, per borough, per agency (or borough's schools).
    Read from the roll-ups, a "day" is a Monday standing for its week."""

    days: list[tuple[date, Counter[str]]]
    boroughs: list[tuple[str | None, Counter[str]]]
    agencies: list[tuple[int | None, str | None, Counter[str]]]


def _stored(filters: ReportFilters) -> Grouped:
    """Summed by the database, once per grouping and span: a year is a few hundred rows each,
    not the tens of thousands of tallies it is made of."""
    parts = spans(filters.first, filters.last)

    def summed(*dims: str) -> list[Any]:
        merged: dict[tuple[Any, ...], Counter[str]] = {}
        for span in parts:
            c = (report_weeks if span.weekly else report_days).c
            statement = (
                select(*(c[d] for d in dims), *(func.sum(c[name]) for name in COUNTED))
                .where(*_where(c, filters, span))
                .group_by(*(c[d] for d in dims))
            )
            for row in db.session.execute(statement):
                counts = zip(COUNTED, (int(n) for n in row[len(dims) :]), strict=True)
                merged.setdefault(tuple(row[: len(dims)]), Counter()).update(dict(counts))
        return [(*key, counts) for key, counts in merged.items()]

    return Grouped(
        days=summed("day"),
        boroughs=summed("borough_code"),
        agencies=summed("agency_id", "borough_code"),
    )


def _grouped(rows: list[TallyRow]) -> Grouped:
    days: dict[date, Counter[str]] = {}
    boroughs: dict[str | None, Counter[str]] = {}
    agencies: dict[tuple[int | None, str | None], Counter[str]] = {}
    for day, borough, agency_id, counts in rows:
        days.setdefault(day, Counter()).update(counts)
        boroughs.setdefault(borough, Counter()).update(counts)
        agencies.setdefault((agency_id, borough), Counter()).update(counts)
    return Grouped(
        days=list(days.items()),
        boroughs=list(boroughs.items()),
        agencies=[(agency_id, borough, n) for (agency_id, borough), n in agencies.items()],
    )


def _stored_answers(filters: ReportFilters) -> Counter[tuple[str, str]]:
    answers: Counter[tuple[str, str]] = Counter()
    for span in spans(filters.first, filters.last):
        c = (report_answer_weeks if span.weekly else report_answers).c
        statement = (
            select(c.answer, c.code, func.sum(c["count"]))
            .where(*_where(c, filters, span))
            .group_by(c.answer, c.code)
        )
        for answer, code, n in db.session.execute(statement):
            answers[(answer, code)] += int(n)
    return answers


def _one_school(filters: ReportFilters) -> tuple[Grouped, Counter[tuple[str, str]]]:
    """A school's figures, counted from its own referrals (the tallies keep schools per
    borough), by the same rules as the tallies."""
    agency = given(filters.agency, "agency")
    start, end = clock.day_bounds(filters.first, filters.last)
    statement = report_tallies.referral_facts().where(
        Referral.agency_id == agency.id, Referral.sent_at >= start, Referral.sent_at < end
    )
    if filters.risk:
        statement = statement.where(Incident.risk_grade == filters.risk)
    now = report_tallies.refreshed_at() or clock.now()
    tallies = report_tallies.tally_referrals(db.session.execute(statement), now, per_school=True)
    rows: list[TallyRow] = [
        (day, borough, agency_id, counts)
        for (day, borough, _risk, _kind, agency_id), counts in tallies.days.items()
    ]
    answers: Counter[tuple[str, str]] = Counter()
    for (_key, answer, code), n in tallies.answers.items():
        answers[(answer, code)] += n
    return _grouped(rows), answers


def _desk(filters: ReportFilters) -> tuple[Figures, list[Figures]]:
    c = report_desk_days.c
    conditions = [c.day >= filters.first, c.day <= filters.last]
    if filters.borough:
        conditions.append(c.borough_code == filters.borough)
    if filters.risk:
        conditions.append(c.risk_grade == filters.risk)
    statement = (
        select(c.borough_code, *(func.sum(c[name]) for name in DESK_COUNTS))
        .where(*conditions)
        .group_by(c.borough_code)
    )
    total = Figures("All boroughs")
    boroughs = []
    for borough, *sums in db.session.execute(statement):
        counts = Counter(dict(zip(DESK_COUNTS, (int(n) for n in sums), strict=True)))
        total.add(counts)
        boroughs.append(Figures(_borough_name(borough), counts))
    return total, sorted(boroughs, key=lambda f: f.label)


def _agency_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(wanted)))
    return {agency_id: name for agency_id, name in rows}


def _borough_name(code: str | None) -> str:
    return BOROUGHS.get(code or "", "No borough")


OUTCOME_LABELS = {code: label for p in PROFILES.values() for code, label in p.outcomes}
DECLINE_LABELS = {code: label for p in PROFILES.values() for code, label in p.decline_reasons}


def _labelled(
    answers: Counter[tuple[str, str]], answer: str, labels: dict[str, str]
) -> list[tuple[str, int]]:
    found = [(labels.get(code, code), n) for (kind, code), n in answers.items() if kind == answer]
    return sorted(found, key=lambda pair: (-pair[1], pair[0]))
