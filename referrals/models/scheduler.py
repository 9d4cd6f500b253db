"""The scheduler process's own record: its heartbeat, read by the health check."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, UTCDateTime


class SchedulerHeartbeat(Base):
    """The scheduler process's last sign of life, for the health check."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sweeps: Mapped[int] = mapped_column(Integer, default=0)
