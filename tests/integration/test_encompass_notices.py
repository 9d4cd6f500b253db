"""Operation Encompass in time, end to end: every school referral of a generated year (nights,
weekends, half-terms, bank holidays), logged and sent through the desk's own rules, has its first
notice relayed over SMTP by a real scheduler process before the school's deadline. The test moves
the scheduler's clock to one second before each deadline and checks what it has sent by then."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.outbox import OutboxMessage, OutboxState
from referrals.models.referral import Referral
from referrals.services import generator, intake, reference_agencies, routing
from tests.conftest import settings_env
from tests.factories import SYSTEM, SYSTEM_DESK

ROOT = Path(__file__).resolve().parents[2]
YEAR_END = datetime(2027, 7, 20, 12, 0, tzinfo=UTC)  # the school year 2026-27, holidays and all
INCIDENTS = 36


def _log_a_generated_year(app: Flask) -> list[tuple[int, datetime]]:
    """(referral id, due time) of each school referral the year's incidents produce."""
    clock.freeze(YEAR_END)
    with app.app_context():
        reference_agencies.ensure_reference_data()
        db.session.commit()
        gen = generator.Generator(INCIDENTS, years=1, seed=5, end=YEAR_END)
        shaped = [gen._incident(i) for i in range(INCIDENTS)]
    for data in shaped:
        assert data.received_at is not None
        clock.freeze(data.received_at + timedelta(minutes=20))  # the desk sends 20 minutes on
        with app.app_context():
            incident, _ = intake.log_incident(SYSTEM, data)
            routing.send(SYSTEM_DESK, incident.id)
            db.session.commit()
    clock.freeze(None)
    with app.app_context():
        return [
            (rid, due)
            for rid, due in db.session.execute(
                select(Referral.id, Referral.due_at)
                .join(Agency, Agency.id == Referral.agency_id)
                .where(Agency.kind == AgencyKind.SCHOOL)
            )
        ]


def _set(path: Path, moment: datetime) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(moment.isoformat())
    os.replace(partial, path)  # the process never reads half a time


def _notices(app: Flask, rids: list[int]) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.referral_id.in_(rids), OutboxMessage.template == "new_referral"
                )
                .order_by(OutboxMessage.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def test_every_school_notice_of_a_year_is_relayed_before_the_school_day(
    app: Flask, database_url: str, tmp_path: Path, smtp_server: tuple[object, int]
) -> None:
    inbox, port = smtp_server
    school = _log_a_generated_year(app)
    assert len(school) >= 25, "the year should hold school referrals to check"
    now_file = tmp_path / "now.txt"
    _set(now_file, min(due for _, due in school) - timedelta(days=400))
    env = {
        **os.environ,
        **settings_env(database_url, tmp_path / "instance"),
        "SMTP_PORT": str(port),
        "RELAY_SECONDS": "0.2",
        "SWEEP_SECONDS": "3600",
        "REFERRALS_TEST_CLOCK_FILE": str(now_file),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ok = False
    try:
        for due in sorted({due for _, due in school}):
            _set(now_file, due - timedelta(seconds=1))
            these = [rid for rid, d in school if d == due]
            deadline = time.monotonic() + 30
            while any(n.state is not OutboxState.SENT for n in _notices(app, these)):
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, f"notices due {due} were not relayed"
                time.sleep(0.05)
        ok = True
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
        if not ok:
            print(output[-5000:])
    first: dict[int, OutboxMessage] = {}
    for notice in _notices(app, [rid for rid, _ in school]):
        first.setdefault(notice.referral_id or 0, notice)
    assert set(first) == {rid for rid, _ in school}
    for rid, due in school:
        notice = first[rid]
        assert notice.sent_at is not None and notice.sent_at < due, (rid, notice.sent_at, due)
        assert notice.next_attempt_at <= due
    received = {m["Message-ID"] for m in inbox.messages}  # type: ignore[attr-defined]
    assert {n.message_id for n in first.values()} <= received
