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
from collections.abc import Callable
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
    # (job, its arguments, its id, its interval in seconds): one process, one run of each at a time
    jobs: list[tuple[Callable[..., object], list[object], str, float]] = [
        (tasks.beat, [app, worker], "heartbeat", max(settings.sweep_seconds // 2, 1)),
        (tasks.sweep, [app, worker], "escalation-sweep", settings.sweep_seconds),
        (tasks.relay, [app, worker], "outbox-relay", settings.relay_seconds),
        (tasks.anchor, [app], "audit-anchor", settings.anchor_minutes * 60),
        (tasks.count_reports, [app], "report-tallies", settings.report_minutes * 60),
        (tasks.compact_open_work, [app], "open-work-counts", settings.sweep_seconds),
    ]
    for job, args, job_id, seconds in jobs:
        scheduler.add_job(
            job,
            "interval",
            args=args,
            id=job_id,
            seconds=seconds,
            next_run_time=_now(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler


def runtime_settings(app: Flask) -> Settings:
    with app.app_context():
        return runtime().settings


def _now() -> datetime:
    # The first run at once, on APScheduler's own clock (the machine's), even when a test
    # has moved this process's "now" years away.
    return clock.wall()
