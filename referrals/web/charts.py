"""Bar charts drawn on the server as SVG: a title and a description for assistive technology,
colours from the stylesheet (no inline style or script, which the CSP refuses), and always the
same figures in a table beside them on the page.

Only the geometry is worked out here; ``templates/macros/chart.html`` draws it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL_ROOM = 190  # left of a horizontal chart: the row's name
VALUE_ROOM = 60  # right of a horizontal bar, or above a vertical one: its value
ROW = 22
PLOT_HEIGHT = 200
AXIS_ROOM = 24  # under a vertical chart: the labels
EDGE = 30  # either side of a vertical chart: room for the first and last bars' names
MOST_LABELS = 10  # a vertical chart names at most this many bars under its axis


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str  # the value as the table gives it: "85%", "12"
    x: float
    y: float
    width: float
    height: float
    labelled: bool  # a vertical chart names only some bars, evenly spread


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    horizontal: bool
    width: int
    height: int
    bars: list[Bar]

    @property
    def plot_bottom(self) -> float:
        return PLOT_HEIGHT + VALUE_ROOM / 3


def vertical(
    chart_id: str,
    title: str,
    description: str,
    points: Sequence[tuple[str, float, str]],
    maximum: float | None = None,
) -> Chart:
    """One bar per (label, value, shown), left to right, on a scale from 0 to ``maximum``
    (the largest value by default)."""
    top = maximum if maximum is not None else max((v for _l, v, _s in points), default=0)
    slot = (WIDTH - 2 * EDGE) / max(len(points), 1)
    every = math.ceil(len(points) / MOST_LABELS) if points else 1
    bars = []
    for index, (label, value, shown) in enumerate(points):
        height = PLOT_HEIGHT * (value / top) if top else 0
        bars.append(
            Bar(
                label=label,
                shown=shown,
                x=round(EDGE + index * slot + slot * 0.15, 1),
                y=round(VALUE_ROOM / 3 + PLOT_HEIGHT - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                labelled=index % every == 0,
            )
        )
    height = int(VALUE_ROOM / 3 + PLOT_HEIGHT + AXIS_ROOM)
    return Chart(chart_id, title, description, False, WIDTH, height, bars)


def horizontal(
    chart_id: str,
    title: str,
    description: str,
    points: Sequence[tuple[str, float, str]],
) -> Chart:
    """One row per (label, value, shown), top to bottom, the longest bar the largest value."""
    top = max((v for _l, v, _s in points), default=0)
    room = WIDTH - LABEL_ROOM - VALUE_ROOM
    bars = [
        Bar(
            label=label,
            shown=shown,
            x=LABEL_ROOM,
            y=index * ROW + 4,
            width=round(room * value / top, 1) if top else 0,
            height=ROW - 8,
            labelled=True,
        )
        for index, (label, value, shown) in enumerate(points)
    ]
    return Chart(chart_id, title, description, True, WIDTH, max(len(points), 1) * ROW, bars)
