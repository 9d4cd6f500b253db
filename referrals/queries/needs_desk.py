""" "Needs the desk": partners' answers that are the desk's work now. Declines not yet dealt with,
questions not yet answered (oldest first), decisions not yet marked seen. Each list reads a
small partial index of its own, so the count in the desk's navigation stays cheap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from referrals.extensions import db
from referrals.models.referral import Referral, ReferralState
from referrals.queries.paging import Cursor, Page


class Section(StrEnum):
    DECLINES = "declines"
    QUESTIONS = "questions"
    DECISIONS = "decisions"

    @property
    def label(self) -> str:
        return {
            "declines": "Declined: re-route or accept",
            "questions": "Questions to answer",
            "decisions": "Decisions to note",
        }[self.value]


def _where(section: Section) -> tuple[ColumnElement[bool], InstrumentedAttribute[datetime | None]]:
    """The section's condition (the same as its partial index's) and the time it is sorted by."""
    return {
        Section.DECLINES: (
            and_(Referral.state == ReferralState.DECLINED, Referral.decline_dealt_at.is_(None)),
            Referral.declined_at,
        ),
        Section.QUESTIONS: (
            Referral.question_open_since.is_not(None),
            Referral.question_open_since,
        ),
        Section.DECISIONS: (
            and_(Referral.decided_at.is_not(None), Referral.decision_seen_at.is_(None)),
            Referral.decided_at,
        ),
    }[section]


@dataclass(frozen=True)
class Counts:
    declines: int
    questions: int
    decisions: int

    @property
    def total(self) -> int:
        return self.declines + self.questions + self.decisions

    def of(self, section: Section) -> int:
        return int(getattr(self, section.value))


def counts() -> Counts:
    """The three counts, one query (each a scan of a small partial index)."""
    found = [
        select(func.count()).select_from(Referral).where(_where(s)[0]).scalar_subquery()
        for s in Section
    ]
    declines, questions, decisions = db.session.execute(select(*found)).one()
    return Counts(int(declines), int(questions), int(decisions))


def listing(section: Section, *, after: Cursor | None, page_size: int) -> Page[Referral]:
    """Oldest first: the longest waiting is the first to do."""
    condition, moment = _where(section)
    stmt = select(Referral).where(condition)
    if after is not None:
        stmt = stmt.where(
            or_(moment > after.moment, and_(moment == after.moment, Referral.id > after.id))
        )
    rows = list(db.session.scalars(stmt.order_by(moment, Referral.id).limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    last = rows[-1] if rows and more else None
    at = getattr(last, moment.key) if last is not None else None
    return Page(items=rows, older=Cursor(at, last.id) if last and at else None, newer=None)
