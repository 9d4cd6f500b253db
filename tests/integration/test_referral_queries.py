"""A partner's tabs and the API's list (``referrals/queries/referrals.py``): read one state at a
time and merged, they give page by page exactly what a plain filter of the agency's referrals
gives, newest sent first (ties by id), at any page size, never another agency's referral and
never a withdrawn one. Both engines."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from flask import Flask
from sqlalchemy import select, update

from referrals import clock
from referrals.extensions import db
from referrals.models.referral import Referral, ReferralState
from referrals.queries.paging import Cursor, Page
from referrals.queries.referrals import InboxTab, for_api, inbox, inbox_count
from tests.factories import LAMBETH, SOUTHWARK, child, front_doors, log_incident, send_incident

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NOW = MONDAY + timedelta(days=2)
S = ReferralState


@dataclass(frozen=True)
class Seen:
    """What a filter written out by hand needs of a referral."""

    id: int
    agency_id: int
    state: ReferralState
    sent_at: datetime
    due: datetime | None
    paused: bool


def _overdue(r: Seen) -> bool:
    return not r.paused and r.due is not None and r.due < NOW


# Each tab's meaning, written out again here as the test's own account of it.
MEANS: dict[InboxTab, Callable[[Seen], bool]] = {
    InboxTab.NEW: lambda r: r.state in (S.SENT, S.VIEWED),
    InboxTab.DUE_SOON: lambda r: (
        r.state in (S.SENT, S.VIEWED, S.ACKNOWLEDGED)
        and not r.paused
        and r.due is not None
        and NOW <= r.due < NOW + timedelta(hours=2)
    ),
    InboxTab.OVERDUE: lambda r: r.state in (S.SENT, S.VIEWED) and _overdue(r),
    InboxTab.ACKNOWLEDGED: lambda r: r.state is S.ACKNOWLEDGED,
    InboxTab.DECISION_OVERDUE: lambda r: r.state is S.ACKNOWLEDGED and _overdue(r),
    InboxTab.DECIDED: lambda r: r.state in (S.DECIDED, S.DECLINED),
}


def _history(app: Flask) -> tuple[int, list[Seen]]:
    """Thirty referrals to Lambeth's front door (and as many to Southwark's) in every state,
    due before, soon after and long after "now", some paused, with sent times that tie."""
    clock.freeze(MONDAY)
    doors = front_doors(app, LAMBETH, SOUTHWARK)
    ids: list[int] = []
    for _ in range(30):
        kids = [
            child(borough_code=LAMBETH, given_name="Wren"),
            child(borough_code=SOUTHWARK, given_name="Quill"),
        ]
        ids += send_incident(app, log_incident(app, children=kids))
    shuffle = random.Random(20261207)  # noqa: S311 (a reproducible history)
    with app.app_context():
        for ident in ids:
            db.session.execute(
                update(Referral)
                .where(Referral.id == ident)
                .values(
                    state=shuffle.choice(list(ReferralState)),
                    sent_at=MONDAY - timedelta(hours=shuffle.randint(0, 12)),
                    clock_due_at=shuffle.choice(
                        [
                            None,
                            NOW - timedelta(days=1),
                            NOW + timedelta(hours=1),
                            NOW + timedelta(days=3),
                        ]
                    ),
                    paused_at=shuffle.choice([None, None, MONDAY]),
                )
            )
        db.session.commit()
        seen = [
            Seen(r.id, r.agency_id, r.state, r.sent_at, r.clock_due_at, r.paused_at is not None)
            for r in db.session.scalars(select(Referral))
        ]
    return doors[f"csc-{LAMBETH}"], seen


def _expected(seen: list[Seen], agency_id: int, keep: Callable[[Seen], bool]) -> list[int]:
    mine = [r for r in seen if r.agency_id == agency_id and r.state is not S.WITHDRAWN and keep(r)]
    return [r.id for r in sorted(mine, key=lambda r: (r.sent_at, r.id), reverse=True)]


def _walk(read: Callable[[Cursor | None], Page[Referral]]) -> list[int]:
    """Every page, following each page's cursor to the next (a cursor that never ends fails
    rather than hangs: the history holds sixty referrals)."""
    found: list[int] = []
    cursor: Cursor | None = None
    for _ in range(100):
        page = read(cursor)
        found += [r.id for r in page.items]
        if page.older is None:
            return found
        cursor = page.older
    raise AssertionError(f"still another page after 100: {found[-5:]}")


def _inbox_page(agency_id: int, tab: InboxTab, size: int, cursor: Cursor | None) -> Page[Referral]:
    return inbox(agency_id, tab, NOW, older_than=cursor, page_size=size)


def _api_page(
    agency_id: int, states: list[ReferralState], size: int, cursor: Cursor | None
) -> Page[Referral]:
    return for_api(agency_id, states=states, updated_since=None, older_than=cursor, page_size=size)


@pytest.mark.parametrize("tab", list(InboxTab), ids=lambda t: t.value)
def test_each_tab_pages_through_exactly_its_referrals_newest_first(
    app: Flask, tab: InboxTab
) -> None:
    agency_id, seen = _history(app)
    expected = _expected(seen, agency_id, MEANS[tab])
    assert expected, "the history gives every tab something to list"
    with app.app_context():
        for size in (1, 4, 50):
            found = _walk(partial(_inbox_page, agency_id, tab, size))
            assert found == expected, size
        assert inbox_count(agency_id, tab, NOW) == len(expected)


@pytest.mark.parametrize(
    "states",
    [
        [],
        [S.SENT],
        [S.SENT, S.ACKNOWLEDGED, S.SENT],
        [S.DECIDED, S.DECLINED, S.VIEWED],
        [S.WITHDRAWN, S.DECIDED],
        [S.WITHDRAWN],
    ],
    ids=lambda states: "+".join(states) or "any",
)
def test_the_api_list_pages_through_the_states_asked_for_never_a_withdrawn_one(
    app: Flask, states: list[ReferralState]
) -> None:
    agency_id, seen = _history(app)
    expected = _expected(seen, agency_id, lambda r: not states or r.state in states)
    with app.app_context():
        for size in (1, 4, 50):
            found = _walk(partial(_api_page, agency_id, states, size))
            assert found == expected, size
    assert bool(expected) is (states != [S.WITHDRAWN])
