"""Search: the desk's by police reference, referral number, pseudonym or school URN; a partner's
within its own agency by referral number or the child's name. A partner's results that show
names are a disclosure, audited."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from referrals import clock
from referrals.queries import search as search_queries
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import partner_views
from referrals.web.requests import actor

bp = Blueprint("search", __name__)


@bp.route("/desk/search")
@requires(Permission.DESK_QUEUE)
def desk() -> str:
    found = search_queries.desk(current_user.role, request.args.get("q", ""))
    return render_template("desk/search.html", found=found, now=clock.now())


@bp.route("/portal/search")
@requires(Permission.PARTNER_INBOX)
def portal() -> str:
    who = actor()
    found = search_queries.partner(who.role, who.agency_id or 0, request.args.get("q", ""))
    rows = partner_views.rows(found.referrals)
    partner_views.audit_shown(who, rows, "referral.search_results")
    return render_template("portal/search.html", found=found, rows=rows, now=clock.now())
