"""Real scheduler processes against one database, on SQLite and PostgreSQL: two at once, one
killed mid-sweep and restarted, one that was down for hours. Each ends with every due step done
once, none twice, none missed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from referrals import clock
from referrals.extensions import db
from referrals.models.escalation import Escalation
from referrals.models.incident import RiskGrade
from referrals.models.referral import Referral
from tests.conftest import settings_env
from tests.factories import LAMBETH, child, front_doors, log_incident, send_incident

ROOT = Path(__file__).resolve().parents[2]
INCIDENTS = 12  # each high risk: a front door per child and MARAC for the victim


def _overdue_world(app: Flask, hours_overdue: float) -> list[int]:
    """High-risk referrals (elapsed-hours ladder, independent of today's weekday), due
    ``hours_overdue`` hours ago, as if the scheduler had not run since."""
    front_doors(app, LAMBETH)
    ids: list[int] = []
    for n in range(INCIDENTS):
        ids += send_incident(
            app,
            log_incident(
                app, risk_actuarial=RiskGrade.HIGH, children=[child(given_name=f"Kid{n}")]
            ),
        )
    due = clock.now() - timedelta(hours=hours_overdue)
    with app.app_context():
        db.session.execute(
            update(Referral).values(due_at=due, clock_due_at=due, next_escalation_at=due)
        )
        db.session.commit()
    return ids


def _scheduler(database_url: str, tmp_path: Path, *, fault: str = "") -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **settings_env(database_url, tmp_path / "instance"),
        "SMTP_PORT": "9",
        "REFERRALS_FAULT": fault,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "--once"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _steps_per_referral(app: Flask) -> dict[int, list[str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Escalation.referral_id, Escalation.step).order_by(
                Escalation.referral_id, Escalation.id
            )
        ).all()
        counts = db.session.execute(
            select(Escalation.referral_id, func.count()).group_by(
                Escalation.referral_id, Escalation.step
            )
        ).all()
    assert all(n == 1 for _, n in counts), "a step was taken twice"
    found: dict[int, list[str]] = {}
    for rid, step in rows:
        found.setdefault(rid, []).append(step.value)
    return found


ALL_STEPS = ["reminder", "duty_manager", "supervisor"]


def test_two_schedulers_at_once_take_each_step_once(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    ids = _overdue_world(app, hours_overdue=5)
    processes = [_scheduler(database_url, tmp_path) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    steps = _steps_per_referral(app)
    assert set(steps) == set(ids)
    assert all(s == ALL_STEPS for s in steps.values())
    taken = [int(o.split("escalation steps taken: ")[1].split(";")[0]) for o in outputs]
    assert sum(taken) == 3 * len(ids)


def test_a_scheduler_killed_mid_sweep_loses_nothing_and_repeats_nothing(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    ids = _overdue_world(app, hours_overdue=5)
    killed = _scheduler(database_url, tmp_path, fault="sweep.after_claim")
    killed.communicate(timeout=120)
    assert killed.returncode == 75  # died holding a claim, before committing
    assert _steps_per_referral(app) == {}  # its half-done batch rolled back
    restarted = _scheduler(database_url, tmp_path)
    output = restarted.communicate(timeout=120)[0]
    assert restarted.returncode == 0, output
    steps = _steps_per_referral(app)
    assert set(steps) == set(ids) and all(s == ALL_STEPS for s in steps.values())


@pytest.mark.parametrize(
    ("hours", "expected"), [(1, ["reminder"]), (3, ["reminder", "duty_manager"])]
)
def test_a_scheduler_down_for_hours_catches_up_in_order(
    app: Flask, database_url: str, tmp_path: Path, hours: int, expected: list[str]
) -> None:
    ids = _overdue_world(app, hours_overdue=hours)
    process = _scheduler(database_url, tmp_path)
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 0, output
    steps = _steps_per_referral(app)
    assert set(steps) == set(ids) and all(s == expected for s in steps.values())
    again = _scheduler(database_url, tmp_path)
    assert "escalation steps taken: 0" in again.communicate(timeout=120)[0]
