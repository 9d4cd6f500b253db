""" "Needs the desk": partners' answers waiting on the desk, with one obvious action each."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from referrals import clock
from referrals.queries import needs_desk
from referrals.queries.paging import Cursor
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.web.requests import enum_arg

bp = Blueprint("needs", __name__, url_prefix="/desk/needs")


@bp.route("/")
@requires(Permission.MANAGE_REFERRALS)
def listing() -> str:
    """Each section oldest first; ``?section=...&after=...`` pages through one section."""
    paging = enum_arg("section", needs_desk.Section)
    after = Cursor.decode(request.args.get("after"))
    size = runtime().settings.page_size
    sections = {
        section: needs_desk.listing(
            section, after=after if section is paging else None, page_size=size
        )
        for section in needs_desk.Section
    }
    return render_template(
        "desk/needs.html",
        sections=sections,
        counts=needs_desk.counts(),
        now=clock.now(),
    )
