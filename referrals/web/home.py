"""Where each role lands after signing in."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from referrals.models.user import Role
from referrals.security.access import requires
from referrals.security.permissions import Permission

bp = Blueprint("home", __name__)

LANDING = {
    Role.DESK_OFFICER: "desk.queue",
    Role.SUPERVISOR: "supervisor.board",
    Role.PARTNER: "portal.inbox",
    Role.ADMINISTRATOR: "admin.users",
    Role.AUDITOR: "audit.events",
}


@bp.route("/")
@requires(Permission.SIGNED_IN)
def index() -> Response:
    return redirect(url_for(LANDING[current_user.role]))
