"""Liveness for load balancers and operators: is the database answering?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from referrals.extensions import db
from referrals.security.access import public

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unreachable"
    healthy = database == "ok"
    return jsonify(status="ok" if healthy else "failing", database=database), (
        200 if healthy else 503
    )
