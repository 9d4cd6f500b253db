"""Health for load balancers and operators: the database, and the scheduler's heartbeat.

Answers 503 when the database does not answer, or when the scheduler's last heartbeat is older
than twice the sweep interval (or there has never been one).
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from referrals import clock
from referrals.extensions import db
from referrals.runtime import runtime
from referrals.security.access import public
from referrals.services import heartbeat

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    limit = 2 * runtime().settings.sweep_seconds
    try:
        db.session.execute(text("SELECT 1"))
        age = heartbeat.age(clock.now())
    except SQLAlchemyError:
        return jsonify(status="failing", database="unreachable", scheduler="unknown"), 503
    if age is None:
        scheduler, healthy, seconds = "never seen", False, None
    else:
        seconds = round(age.total_seconds(), 1)
        healthy = seconds <= limit
        scheduler = "ok" if healthy else "stalled"
    return jsonify(
        status="ok" if healthy else "failing",
        database="ok",
        scheduler=scheduler,
        heartbeat_age_seconds=seconds,
        limit_seconds=limit,
    ), 200 if healthy else 503
