"""The outcome summary: per incident, what each partner did with each child's referral, for the
desk to feed back to the referring officer. Opening and printing it are audited."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from referrals import clock
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import casefile
from referrals.services.errors import NotFound
from referrals.web.requests import actor

bp = Blueprint("outcomes", __name__, url_prefix="/desk/incidents")


@bp.route("/<id:incident_id>/outcomes")
@requires(Permission.VIEW_INCIDENT)
def summary(incident_id: int) -> str:
    """``?print=1``: the print view, which asks the browser to print once it has loaded (its
    opening is audited as a printing)."""
    printing = request.args.get("print") == "1"
    try:
        found = casefile.outcome_summary(actor(), incident_id, printed=printing)
    except NotFound:
        abort(404)
    return render_template("desk/outcomes.html", summary=found, printing=printing, now=clock.now())
