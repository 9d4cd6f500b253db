"""Open work counted as it changes: how many open referrals each agency has in each state, with
the clock running or not, kept by database triggers on ``referrals`` (so every writer, the bulk
loader and erasure included, keeps it true) and read by the board and the partners' tab counts.

A row is a change (+1 or -1, or, once compacted, a sum): the triggers only ever insert, so two
transactions that change referrals of the same agency never wait on one counter row (and never
deadlock on two). Readers sum the rows; the scheduler folds them into one row per key
(``referrals.queries.open_work.compact``)."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, enum_type, intpk
from referrals.models.referral import ReferralState


class OpenWorkCount(Base):
    """A change in the number of open referrals (``OPEN_STATES``) of an agency in a state;
    ``running`` is "not paused and a clock is set": the referrals a due-time count can read."""

    __tablename__ = "open_work_counts"
    __table_args__ = (Index("ix_open_work_counts_key", "agency_id", "state", "running", "n"),)

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[ReferralState] = mapped_column(enum_type(ReferralState, "state"))
    running: Mapped[bool] = mapped_column(Boolean)
    n: Mapped[int] = mapped_column(Integer)
