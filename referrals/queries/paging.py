"""Keyset pagination over (timestamp, id): the cost of a page does not grow with history; and
numbered pages for the short lists."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from referrals.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Cursor:
    moment: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.moment.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """A cursor from a query string; anything malformed means "first page", never an error."""
        if not text or len(text) > 100:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment_text, _, id_text = raw.partition("|")
            moment = datetime.fromisoformat(moment_text)
            if moment.tzinfo is None or not id_text.isdigit() or len(id_text) > 10:
                return None
            return cls(moment, min(int(id_text), 2**31 - 1))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    older: Cursor | None  # cursor for the next (older) page, if there is one
    newer: Cursor | None  # cursor for the previous (newer) page, if there is one


@dataclass(frozen=True)
class Numbered(Generic[T]):
    """One numbered page of a short list (agencies, users, reviews due): the page asked for,
    kept between 1 and the last page."""

    items: list[T]
    total: int
    page: int
    pages: int


def numbered(statement: Select[T], page: int, page_size: int) -> Numbered[T]:
    """``statement`` (already ordered) counted, then the rows of one page of it."""
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    items = list(db.session.scalars(statement.offset((page - 1) * page_size).limit(page_size)))
    return Numbered(items, total, page, pages)
