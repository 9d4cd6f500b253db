"""The dedicated scheduler process (``flask --app wsgi scheduler``), never inside web workers.

APScheduler 3 runs five interval jobs in one process: the escalation sweep, the outbox relay, a
heartbeat, a checkpoint of the audit chain's end (``services/audit_anchor.py``), and the count
of the reports' daily tallies (``services/report_tallies.py``). Each job's
claims are compare-and-set updates in the database, so a second scheduler started by mistake, on
this host or another, does no step twice.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from config import Settings
from referrals import clock
from referrals.jobs import tasks
from referrals.runtime import runtime

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_once(app: Flask) -> tuple[int, int]:
    worker = worker_name()
    tasks.beat(app, worker)
    taken = tasks.sweep(app, worker)
    sent = tasks.relay(app, worker)
    tasks.anchor(app)
    tasks.count_reports(app)
    return taken, sent


def build(app: Flask) -> BlockingScheduler:
    settings = runtime_settings(app)
    worker = worker_name()
    scheduler = BlockingScheduler(timezone="UTC")
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        tasks.beat,
        "interval",
        args=[app, worker],
        id="heartbeat",
        seconds=max(settings.sweep_seconds // 2, 1),
        next_run_time=_now(),
        **common,
    )
    scheduler.add_job(
        tasks.sweep,
        "interval",
        args=[app, worker],
        id="escalation-sweep",
        seconds=settings.sweep_seconds,
        next_run_time=_now(),
        **common,
    )
    scheduler.add_job(
        tasks.relay,
        "interval",
        args=[app, worker],
        id="outbox-relay",
        seconds=settings.relay_seconds,
        next_run_time=_now(),
        **common,
    )
    scheduler.add_job(
        tasks.anchor,
        "interval",
        args=[app],
        id="audit-anchor",
        minutes=settings.anchor_minutes,
        next_run_time=_now(),
        **common,
    )
    scheduler.add_job(
        tasks.count_reports,
        "interval",
        args=[app],
        id="report-tallies",
        minutes=settings.report_minutes,
        next_run_time=_now(),
        **common,
    )
    return scheduler


def runtime_settings(app: Flask) -> Settings:
    with app.app_context():
        return runtime().settings


def _now() -> datetime:
    # The first run at once, on APScheduler's own clock (the machine's), even when a test
    # has moved this process's "now" years away.
    return clock.wall()
