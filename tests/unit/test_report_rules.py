"""The reports' rules (``queries/reports.py``, ``services/report_tallies.py``,
``web/charts.py``): periods, wait bands, percentiles from bands, London days, chart geometry."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from referrals.clock import day_bounds, london_day
from referrals.queries.reports import Figures, Span, band_label, period_dates, spans
from referrals.services.report_tallies import wait_band
from referrals.web import charts


@pytest.mark.parametrize(
    ("period", "today", "expected"),
    [
        ("this_week", date(2026, 11, 22), (date(2026, 11, 16), date(2026, 11, 22))),  # a Sunday
        ("this_week", date(2026, 11, 23), (date(2026, 11, 23), date(2026, 11, 23))),  # a Monday
        ("last_4_weeks", date(2026, 11, 22), (date(2026, 10, 26), date(2026, 11, 22))),
        ("this_quarter", date(2026, 11, 22), (date(2026, 10, 1), date(2026, 11, 22))),
        ("last_quarter", date(2026, 11, 22), (date(2026, 7, 1), date(2026, 9, 30))),
        ("last_quarter", date(2026, 2, 10), (date(2025, 10, 1), date(2025, 12, 31))),
    ],
)
def test_named_periods(period: str, today: date, expected: tuple[date, date]) -> None:
    assert period_dates(period, today) == expected


def _days(first: str, last: str) -> Span:
    return Span(date.fromisoformat(first), date.fromisoformat(last), weekly=False)


def _weeks(first_monday: str, last_monday: str) -> Span:
    return Span(date.fromisoformat(first_monday), date.fromisoformat(last_monday), weekly=True)


# 16 and 23 November 2026 are Mondays.
@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("2026-11-16", "2026-11-22", [_weeks("2026-11-16", "2026-11-16")]),  # one whole week
        ("2026-11-16", "2026-11-21", [_days("2026-11-16", "2026-11-21")]),  # six days
        ("2026-11-17", "2026-11-23", [_days("2026-11-17", "2026-11-23")]),  # across two weeks
        ("2026-11-17", "2026-11-17", [_days("2026-11-17", "2026-11-17")]),
        (
            "2026-11-15",  # a Sunday, two whole weeks, then a Monday and Tuesday
            "2026-12-01",
            [
                _weeks("2026-11-16", "2026-11-23"),
                _days("2026-11-15", "2026-11-15"),
                _days("2026-11-30", "2026-12-01"),
            ],
        ),
        (
            "2025-11-23",  # a year ending on a Sunday: every week whole but the first day's
            "2026-11-22",
            [_weeks("2025-11-24", "2026-11-16"), _days("2025-11-23", "2025-11-23")],
        ),
    ],
)
def test_a_period_is_its_whole_weeks_and_the_days_either_side(
    first: str, last: str, expected: list[Span]
) -> None:
    found = spans(date.fromisoformat(first), date.fromisoformat(last))
    assert found == expected
    covered = [
        day
        for span in found
        for n in range((span.last - span.first).days + (7 if span.weekly else 1))
        if (day := span.first + timedelta(days=n))
    ]
    assert sorted(covered) == [
        date.fromisoformat(first) + timedelta(days=n)
        for n in range((date.fromisoformat(last) - date.fromisoformat(first)).days + 1)
    ], "every day of the period once, and no other"


def test_a_custom_period_is_not_named() -> None:
    with pytest.raises(ValueError, match="custom"):
        period_dates("custom", date(2026, 11, 22))


@pytest.mark.parametrize(
    ("minutes", "label"),
    [
        (0, "within 15 min"),
        (15, "within 15 min"),  # an edge belongs to the band it closes
        (15.01, "within 30 min"),
        (60, "within 1 h"),
        (1440, "within 1 day"),
        (2880, "within 2 days"),
        (10080, "within 7 days"),
        (10081, "over 7 days"),
    ],
)
def test_wait_bands(minutes: float, label: str) -> None:
    assert band_label(wait_band(minutes)) == label


def test_percentiles_are_the_band_the_share_is_reached_in() -> None:
    figures = Figures("x", Counter({"ack_0": 1, "ack_3": 1, "ack_5": 2}))  # 15 min, 2 h, 8 h x2
    assert figures.percentile("ack", 0.5) == "within 2 h"  # 2 of 4
    assert figures.percentile("ack", 0.9) == "within 8 h"
    assert figures.percentile("decide", 0.5) == "—"  # nothing decided


def test_rates_have_no_value_without_anything_due() -> None:
    assert Figures("x").on_time_rate is None
    assert Figures("x").triage_on_time_rate is None
    rated = Figures("x", Counter({"ack_on_time": 3, "ack_late": 1, "overdue": 1}))
    assert rated.on_time_rate == pytest.approx(0.6)
    desk = Figures("x", Counter({"sent": 4, "triage_late": 1, "triage_overdue": 1}))
    assert desk.triage_on_time_rate == pytest.approx(3 / 5)


def test_a_london_day_crosses_the_clock_change() -> None:
    # 29 March 2026: clocks go forward; the London day is 23 hours long
    start, end = day_bounds(date(2026, 3, 29), date(2026, 3, 29))
    assert (start, end) == (
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 23, 0, tzinfo=UTC),
    )
    assert london_day(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)  # BST


def test_vertical_bars_scale_to_the_maximum_and_name_at_most_ten() -> None:
    points = [(f"w{i}", i / 20, f"{i * 5}%") for i in range(21)]
    chart = charts.vertical("c", "t", "d", points, maximum=1.0)
    assert chart.bars[20].height == pytest.approx(charts.PLOT_HEIGHT, abs=0.1)
    assert chart.bars[0].height == 0
    assert sum(b.labelled for b in chart.bars) <= charts.MOST_LABELS + 1
    assert all(b.x >= 0 and b.x + b.width <= chart.width for b in chart.bars)


def test_horizontal_bars_fit_between_the_names_and_the_values() -> None:
    chart = charts.horizontal("c", "t", "d", [("Lambeth", 4, "4"), ("Southwark", 2, "2")])
    assert chart.bars[0].width == charts.WIDTH - charts.LABEL_ROOM - charts.VALUE_ROOM
    assert chart.bars[1].width == pytest.approx(chart.bars[0].width / 2)
    assert chart.height == 2 * charts.ROW
    empty = charts.horizontal("c", "t", "d", [])
    assert empty.bars == []
