"""The partner portal. Referrals reach partners once routing lands (issue 3); until then the
inbox says truthfully that nothing has been sent to the agency."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.security.access import requires
from referrals.security.permissions import Permission

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.route("/")
@requires(Permission.PARTNER_INBOX)
def inbox() -> str:
    agency = db.session.get(Agency, current_user.agency_id) if current_user.agency_id else None
    return render_template("portal/inbox.html", agency=agency)
