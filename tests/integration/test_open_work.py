"""Open work counted as it changes (``referrals/queries/open_work.py``, the triggers of
``referrals/models/open_work.py``): every writer keeps the counts true, whatever it changes
(state, agency, pause, due time, deletion), they equal a scan of the referrals before and after
compaction, and the board's and the inbox's counts read from them equal the counts a scan gives.
Both engines."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select, update

from referrals import clock
from referrals.extensions import db
from referrals.models.open_work import OpenWorkCount
from referrals.models.referral import OPEN_STATES, Referral, ReferralState
from referrals.queries import board, open_work
from referrals.queries.referrals import InboxTab, inbox_count, tab_counts
from referrals.services import retention
from tests.factories import LAMBETH, SOUTHWARK, child, front_doors, log_incident, send_incident

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
Key = tuple[int, ReferralState, bool]


def _kept() -> Counter[Key]:
    rows = db.session.execute(
        select(OpenWorkCount.agency_id, OpenWorkCount.state, OpenWorkCount.running)
        .add_columns(func.sum(OpenWorkCount.n))
        .group_by(OpenWorkCount.agency_id, OpenWorkCount.state, OpenWorkCount.running)
    )
    return Counter({(a, s, bool(r)): int(n) for a, s, r, n in rows if n})


def _scanned() -> Counter[Key]:
    running = sa.and_(Referral.paused_at.is_(None), Referral.clock_due_at.is_not(None))
    rows = db.session.execute(
        select(Referral.agency_id, Referral.state, running, func.count())
        .where(Referral.state.in_(OPEN_STATES))
        .group_by(Referral.agency_id, Referral.state, running)
    )
    return Counter({(a, s, bool(r)): int(n) for a, s, r, n in rows})


def _referrals(app: Flask, incidents: int = 4) -> list[int]:
    clock.freeze(MONDAY)
    front_doors(app, LAMBETH, SOUTHWARK)
    ids: list[int] = []
    for _ in range(incidents):
        kids = [
            child(borough_code=LAMBETH, given_name="Wren"),
            child(borough_code=SOUTHWARK, given_name="Quill"),
        ]
        ids += send_incident(app, log_incident(app, children=kids))
    return ids


@pytest.mark.parametrize("state", list(ReferralState))
@pytest.mark.parametrize("paused", [False, True])
@pytest.mark.parametrize("due", [True, False])
def test_a_referral_is_counted_exactly_when_open_and_as_running_exactly_when_its_clock_runs(
    app: Flask, state: ReferralState, paused: bool, due: bool
) -> None:
    (first, *_) = _referrals(app, incidents=1)
    with app.app_context():
        db.session.execute(
            update(Referral)
            .where(Referral.id == first)
            .values(
                state=state,
                paused_at=MONDAY if paused else None,
                clock_due_at=MONDAY + timedelta(days=1) if due else None,
            )
        )
        db.session.commit()
        referral = db.session.get(Referral, first)
        assert referral is not None
        key = (referral.agency_id, state, not paused and due)
        assert _kept() == _scanned()
        assert (_kept()[key] > 0) is (state in OPEN_STATES)


def test_every_kind_of_change_keeps_the_counts_equal_to_a_scan_before_and_after_compaction(
    app: Flask,
) -> None:
    ids = _referrals(app)
    shuffle = random.Random(20261205)  # noqa: S311 (a reproducible sequence of changes)
    with app.app_context():
        agencies = sorted({a for (a,) in db.session.execute(select(Referral.agency_id))})
        assert _kept() == _scanned() and sum(_kept().values()) == len(ids)
        for step in range(120):
            target = shuffle.choice(ids)
            change = shuffle.choice(["state", "pause", "due", "agency", "nothing"])
            changes: dict[str, dict[str, object]] = {
                "state": {"state": shuffle.choice(list(ReferralState))},
                "pause": {"paused_at": shuffle.choice([None, MONDAY])},
                "due": {"clock_due_at": shuffle.choice([None, MONDAY, MONDAY + timedelta(1)])},
                "agency": {"agency_id": shuffle.choice(agencies)},
                "nothing": {"version": Referral.version + 1},
            }
            db.session.execute(
                update(Referral).where(Referral.id == target).values(**changes[change])
            )
            if step % 10 == 9:
                db.session.commit()
            if step % 25 == 24:
                assert open_work.compact() > 0
                db.session.commit()
            assert _kept() == _scanned(), (step, change)
        before = _kept()
        db.session.execute(update(Referral).values(state=ReferralState.DECIDED))
        assert not _kept()  # inside the transaction, the counts moved with the change
        db.session.rollback()
        assert _kept() == before == _scanned()  # and went back with it
        # Erasure deletes referrals (retention's own deletion), then folding: one row per key.
        erased = db.session.scalars(select(Referral.incident_id).distinct().limit(2)).all()
        for incident_id in erased:
            retention._erase_records(incident_id)
        assert (db.session.scalar(select(func.count()).select_from(Referral)) or 0) < len(ids)
        open_work.compact()
        db.session.commit()
        assert _kept() == _scanned()
        rows = db.session.scalar(select(func.count()).select_from(OpenWorkCount))
        assert rows == len(_scanned())


def test_the_board_and_the_inbox_count_what_a_scan_counts(app: Flask) -> None:
    ids = _referrals(app, incidents=6)
    now = MONDAY + timedelta(days=1)
    moves = random.Random(7)  # noqa: S311 (a reproducible sequence of changes)
    with app.app_context():
        for target in ids:  # due times either side of "now", some paused, some acknowledged
            db.session.execute(
                update(Referral)
                .where(Referral.id == target)
                .values(
                    clock_due_at=now + timedelta(minutes=moves.randrange(-300, 300, 30)),
                    paused_at=MONDAY if moves.random() < 0.2 else None,
                    state=moves.choice(list(OPEN_STATES)),
                )
            )
        db.session.commit()
        agencies = {a for (a,) in db.session.execute(select(Referral.agency_id))}
        for agency in [None, *agencies]:
            kept = board.counts(board.BoardFilters(agency_id=agency), now)
            scanned = _scan_board(agency, now)
            assert kept == scanned, agency
        for agency in agencies:
            tabs = tab_counts(agency, now)
            for tab in (InboxTab.NEW, InboxTab.DUE_SOON, InboxTab.OVERDUE):
                assert tabs[tab] == _scan_tab(agency, tab, now), (agency, tab)
            assert tabs[InboxTab.DECISION_OVERDUE] == _scan_tab(
                agency, InboxTab.DECISION_OVERDUE, now
            )
        assert board.counts(board.BoardFilters(), now)["overdue"] > 0


def _scan_board(agency: int | None, now: datetime) -> dict[str, int]:
    open_running = select(Referral).where(
        Referral.state.in_(OPEN_STATES),
        Referral.paused_at.is_(None),
        Referral.clock_due_at.is_not(None),
    )
    if agency is not None:
        open_running = open_running.where(Referral.agency_id == agency)
    rows = list(db.session.scalars(open_running))
    due = [(r.state, r.clock_due_at) for r in rows if r.clock_due_at is not None]
    return {
        "overdue": sum(1 for _, at in due if at < now),
        "decision_overdue": sum(1 for s, at in due if at < now and s is ReferralState.ACKNOWLEDGED),
        "due_soon": sum(1 for _, at in due if now <= at < now + timedelta(hours=2)),
    }


def _scan_tab(agency: int, tab: InboxTab, now: datetime) -> int:
    return inbox_count(agency, tab, now)


def test_compaction_beside_writers_loses_nothing(app: Flask) -> None:
    """Two writers and two compactions at once (on SQLite they take turns)."""
    ids = _referrals(app, incidents=6)
    stop = threading.Event()
    failures: list[BaseException] = []
    done: Counter[str] = Counter()

    def write(seed: int) -> None:
        moves = random.Random(seed)  # noqa: S311 (a reproducible sequence of changes)
        try:
            with app.app_context():
                while not stop.is_set():
                    target = moves.choice(ids)
                    state = moves.choice(list(ReferralState))
                    db.session.execute(
                        update(Referral).where(Referral.id == target).values(state=state)
                    )
                    db.session.commit()
                    done["writes"] += 1
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    def fold() -> None:
        try:
            with app.app_context():
                while not stop.is_set():
                    open_work.compact()
                    db.session.commit()
                    done["folds"] += 1
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(s,)) for s in (1, 2)]
    threads += [threading.Thread(target=fold) for _ in range(2)]
    for thread in threads:
        thread.start()
    # Until each side has done a hundred, not for a fixed time: on SQLite the writers take turns
    # with the folds for the one write lock, and a busy machine gave them 82 writes in 3 s.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (done["writes"] > 100 and done["folds"] > 100):
        stop.wait(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert done["writes"] > 100 and done["folds"] > 100, done
    with app.app_context():
        assert _kept() == _scanned()
