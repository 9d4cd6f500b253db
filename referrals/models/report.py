"""The reports' daily tallies, kept by the scheduler (``services/report_tallies.py``) so that a
report over a quarter or a year sums a few thousand rows, never a million referrals.

A referral is tallied on the London day it was sent, under its agency (schools are tallied per
borough, not per school: a school's own figures are counted from its referrals when it is the
filter), its agency's kind and borough, and its incident's risk grade. Times to acknowledge and to
decide are kept as counts per band of ``WAIT_BANDS``, so medians and 90th percentiles are the
band they fall in, summed exactly across any period.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, false

from referrals.db import Base, UTCDateTime, enum_type
from referrals.models.agency import AgencyKind
from referrals.models.incident import RiskGrade

# The upper edges of the wait bands, in minutes; a last band holds everything longer.
WAIT_BANDS: tuple[int, ...] = (15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080)
WAIT_CLOCKS = ("ack", "decide")
# What each referral adds to its row: one count per outcome of the acknowledgement clock.
REFERRAL_COUNTS = (
    "sent",
    "ack_on_time",  # acknowledged by the due time (an extension moves the due time)
    "ack_late",
    "overdue",  # not acknowledged, not answered otherwise, and past its due time
    "awaiting",  # not acknowledged and not yet due
    "declined",
    "withdrawn",
    "decided",
)


def band_columns(clock_name: str) -> list[str]:
    return [f"{clock_name}_{band}" for band in range(len(WAIT_BANDS) + 1)]


def _counts(names: list[str] | tuple[str, ...]) -> list[Column[int]]:
    return [Column(name, Integer, nullable=False, default=0) for name in names]


def _dimensions(prefix: str, *, weekly: bool = False) -> list[Column[object]]:
    if weekly:  # a roll-up: the Monday of its week; what was disposed of is summed in
        return [
            Column("day", Date, nullable=False),
            Column("borough_code", String(9)),
            Column("risk_grade", enum_type(RiskGrade, f"{prefix}_risk_grade"), nullable=False),
        ]
    return [
        Column("day", Date, nullable=False),
        Column("borough_code", String(9)),
        Column("risk_grade", enum_type(RiskGrade, f"{prefix}_risk_grade"), nullable=False),
        # The counts of incidents since disposed of (``services/retention.py``): all that is
        # left of them. A recount replaces a day's other rows and leaves these.
        Column("disposed", Boolean, nullable=False, default=False, server_default=false()),
    ]


def _referral_table(name: str, *, weekly: bool = False) -> Table:
    return Table(
        name,
        Base.metadata,
        *_dimensions(name, weekly=weekly),
        Column("agency_kind", enum_type(AgencyKind, f"{name}_agency_kind"), nullable=False),
        # None for schools: they are tallied together per borough.
        Column("agency_id", Integer, ForeignKey("agencies.id")),
        *_counts(REFERRAL_COUNTS),
        *_counts([name for clock_name in WAIT_CLOCKS for name in band_columns(clock_name)]),
        Index(f"ix_{name}_day", "day"),
    )


def _answer_table(name: str, *, weekly: bool = False) -> Table:
    return Table(
        name,
        Base.metadata,
        *_dimensions(name, weekly=weekly),
        Column("agency_kind", enum_type(AgencyKind, f"{name}_agency_kind"), nullable=False),
        Column("agency_id", Integer, ForeignKey("agencies.id")),
        Column("answer", String(10), nullable=False),  # "decision" or "decline"
        Column("code", String(40), nullable=False),
        Column("count", Integer, nullable=False),
        Index(f"ix_{name}_day", "day"),
    )


report_days = _referral_table("report_days")
# Decisions per outcome and declines per reason, on the same dimensions.
report_answers = _answer_table("report_answers")
# The same, summed per week (``day`` is its Monday), kept beside the days by every recount: a
# report over a year sums the weeks it covers whole and the days at either end, a fifth of the
# rows (a year at a million incidents: 84,000 daily rows of referrals and 348,000 of answers).
report_weeks = _referral_table("report_weeks", weekly=True)
report_answer_weeks = _answer_table("report_answer_weeks", weekly=True)

# The desk's own deadlines: incidents per London day received, borough and risk.
DESK_COUNTS = (
    "received",
    "sent",
    "triage_late",  # sent after its triage deadline
    "triage_overdue",  # not sent, and past its triage deadline
    "share_due",  # a child at school: Operation Encompass applies
    "share_late",  # shared after the start of the school day
)
report_desk_days = Table(
    "report_desk_days",
    Base.metadata,
    *_dimensions("report_desk_days"),
    *_counts(DESK_COUNTS),
    Index("ix_report_desk_days_day", "day"),
)

# One row: when the tallies were last brought up to date (the reports say "as of"); None until
# the first count, or after ``flask reports count --all``.
report_state = Table(
    "report_state",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("refreshed_at", UTCDateTime()),
    # One more at every recount: a report computed from the tallies is good until it moves.
    Column("version", Integer, nullable=False, server_default="0"),
)
