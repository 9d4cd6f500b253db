"""The supervisor's overdue board and actions: phone chase, re-send, re-assign, extend."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from referrals import clock
from referrals.models.incident import RiskGrade
from referrals.queries import board as board_queries
from referrals.queries.paging import Cursor
from referrals.reference import BOROUGHS, borough_choices
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import deadlines, exports, supervision
from referrals.services.errors import InvalidInput, NotFound
from referrals.web.dispatch import act_on_referral
from referrals.web.downloads import Row, download
from referrals.web.forms import london_moment
from referrals.web.requests import actor, bounded_int, enum_arg, int_arg
from referrals.web.supervisor_forms import ExtendForm, ReassignForm

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


@bp.route("/")
@requires(Permission.SUPERVISE)
def board() -> str:
    filters = _board_filters()
    now = clock.now()
    page = board_queries.attention(
        filters,
        now,
        after=Cursor.decode(request.args.get("after")),
        page_size=runtime().settings.page_size,
    )
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template(
        "supervisor/board.html",
        page=page,
        now=now,
        filters=filters,
        counts=board_queries.counts(filters, now),
        desk_late=board_queries.desk_late(now),
        questions=board_queries.stale_questions(now, deadlines.desk_calendar()),
        paused=board_queries.paused(filters),
        failed=board_queries.failed_email(),
        agency_name=board_queries.agency_name(filters.agency_id) if filters.agency_id else None,
        boroughs=borough_choices(),
        grades=list(RiskGrade),
        staff=supervision.desk_staff(),
        args=args,
        others={k: v for k, v in args.items() if k != "agency"},
    )


def _board_filters() -> board_queries.BoardFilters:
    borough = request.args.get("borough", "")
    return board_queries.BoardFilters(
        agency_id=int_arg("agency"),
        owner_id=int_arg("owner"),
        borough=borough if borough in BOROUGHS else None,
        risk=enum_arg("risk", RiskGrade),
    )


@bp.route("/export.<any(csv, xlsx):fmt>")
@requires(Permission.SUPERVISE)
def export_board(fmt: str) -> Response:
    """The board's overdue and due-soon list under its filters, every page, as CSV or XLSX."""
    filters = _board_filters()
    now = clock.now()

    def rows() -> Iterator[Row]:
        fetch = partial(board_queries.attention, filters, now, page_size=exports.BATCH)
        for items in exports.pages(lambda cursor: fetch(after=cursor)):
            for r in items:
                yield (
                    ("referral", r.id),
                    [
                        r.reference,
                        r.subject.person.pseudonym,
                        r.agency.name,
                        r.incident.risk_grade.label,
                        r.clock_due_at,
                        "Overdue" if r.clock_due_at and r.clock_due_at < now else "Due soon",
                        r.escalation_label,
                    ],
                )

    header = ["Referral", "Pseudonym", "Agency", "Risk", "Due", "Overdue or due soon", "Chased"]
    chosen = {k: v for k, v in request.args.items() if k in ("agency", "owner", "borough", "risk")}
    count = board_queries.attention_count(filters, now)
    return download(fmt, "overdue_board", chosen, count, header, rows())


@bp.route("/referrals/<id:referral_id>/resend", methods=["POST"])
@requires(Permission.SUPERVISE)
def resend(referral_id: int) -> Response | tuple[str, int]:
    def run() -> str:
        supervision.resend_notice(actor(), referral_id)
        return "The notice will be sent again in a moment."

    return act_on_referral(referral_id, "resend", None, run)


@bp.route("/referrals/<id:referral_id>/reassign", methods=["POST"])
@requires(Permission.SUPERVISE)
def reassign(referral_id: int) -> Response | tuple[str, int]:
    form = ReassignForm(prefix="reassign")

    def run() -> str:
        owner = form.owner_id.data or ""
        owner_id = bounded_int(owner) or 0
        supervision.reassign(actor(), referral_id, owner_id)
        return "Referral re-assigned."

    return act_on_referral(referral_id, "reassign", form, run)


@bp.route("/referrals/<id:referral_id>/extend", methods=["POST"])
@requires(Permission.SUPERVISE)
def extend(referral_id: int) -> Response | tuple[str, int]:
    form = ExtendForm(prefix="extend")

    def run() -> str:
        form.validate()
        moment, problem = london_moment(form.new_date.data, form.new_time.data, "the new deadline")
        if form.new_date.errors or problem:
            raise InvalidInput({"new_date": (form.new_date.errors or [problem])[0]})
        try:
            supervision.extend(actor(), referral_id, moment, form.reason.data or "")
        except InvalidInput as invalid:
            raise InvalidInput(
                {("new_date" if k == "new_due" else k): v for k, v in invalid.errors.items()}
            ) from invalid
        return "Deadline extended."

    return act_on_referral(referral_id, "extend", form, run)


@bp.route("/figures")
@requires(Permission.SUPERVISE)
def figures() -> Response:
    """The old thirty-day page: the reports' last 4 weeks now."""
    return redirect(url_for("reports.index", period="last_4_weeks"))


@bp.route("/outbox/<id:message_id>/retry", methods=["POST"])
@requires(Permission.SUPERVISE)
def retry(message_id: int) -> Response:
    try:
        supervision.retry_email(actor(), message_id)
    except NotFound:
        abort(404)
    flash("The e-mail will be tried again in a moment.")
    return redirect(url_for("supervisor.board") + "#failed")
