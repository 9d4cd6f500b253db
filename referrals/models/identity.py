"""The identity store: every identifying value, sealed with AES-256-GCM bound to its row."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from referrals.db import Base, created_at


class SealedValue(Base):
    """One encrypted value. ``purpose`` names the column it stands for (``person.identity``,
    ``incident.summary``...) and, with ``id``, is the associated data: a ciphertext copied to
    another row or used for another purpose does not decrypt."""

    __tablename__ = "sealed_values"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(16), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[created_at]
