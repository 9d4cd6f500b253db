"""The supervisor's overdue board and actions: phone chase, re-send, re-assign, extend."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from referrals import clock
from referrals.models.incident import RiskGrade
from referrals.queries import board as board_queries
from referrals.queries.paging import Cursor
from referrals.reference import BOROUGHS, borough_choices
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import supervision
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput, NotFound
from referrals.web.dispatch import referral_page
from referrals.web.forms import attach_errors, london_moment
from referrals.web.supervisor_forms import ChaseForm, ExtendForm, ReassignForm

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


def _actor() -> Actor:
    return Actor.of(current_user.user)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


@bp.route("/")
@requires(Permission.SUPERVISE)
def board() -> str:
    risk = request.args.get("risk", "")
    borough = request.args.get("borough", "")
    filters = board_queries.BoardFilters(
        agency_id=_int_arg("agency"),
        owner_id=_int_arg("owner"),
        borough=borough if borough in BOROUGHS else None,
        risk=RiskGrade(risk) if risk in {g.value for g in RiskGrade} else None,
    )
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
        paused=board_queries.paused(filters),
        failed=board_queries.failed_email(),
        agency_name=board_queries.agency_name(filters.agency_id) if filters.agency_id else None,
        boroughs=borough_choices(),
        grades=list(RiskGrade),
        staff=supervision.desk_staff(),
        args=args,
        others={k: v for k, v in args.items() if k != "agency"},
    )


@bp.route(
    "/referrals/<id:referral_id>/<any(chase, resend, reassign, extend):action>", methods=["POST"]
)
@requires(Permission.SUPERVISE)
def act(referral_id: int, action: str) -> Response | tuple[str, int]:
    actor = _actor()
    forms = {"chase": ChaseForm, "reassign": ReassignForm, "extend": ExtendForm}
    form = forms[action](prefix=action) if action in forms else None
    try:
        if isinstance(form, ChaseForm):
            supervision.record_chase(
                actor, referral_id, form.outcome.data or "", form.note.data or ""
            )
            flash("Phone chase recorded.")
        elif action == "resend":
            supervision.resend_notice(actor, referral_id)
            flash("The notice will be sent again in a moment.")
        elif isinstance(form, ReassignForm):
            owner = form.owner_id.data or ""
            supervision.reassign(actor, referral_id, int(owner) if owner.isdigit() else 0)
            flash("Referral re-assigned.")
        elif isinstance(form, ExtendForm):
            form.validate()
            moment, problem = london_moment(
                form.new_date.data, form.new_time.data, "the new deadline"
            )
            if form.new_date.errors or problem:
                raise InvalidInput({"new_date": (form.new_date.errors or [problem])[0]})
            supervision.extend(actor, referral_id, moment, form.reason.data or "")
            flash("Deadline extended.")
    except NotFound:
        abort(404)
    except InvalidInput as invalid:
        assert form is not None
        attach_errors(
            form, {("new_date" if k == "new_due" else k): v for k, v in invalid.errors.items()}
        )
        return referral_page(referral_id, status=400, **{action: form})
    except DomainError as refused:
        flash(str(refused), "refused")
    return redirect(url_for("dispatch.referral", referral_id=referral_id))


@bp.route("/figures")
@requires(Permission.SUPERVISE)
def figures() -> str:
    """Thirty days per agency: kept off the board itself, whose every view must stay quick."""
    return render_template("supervisor/figures.html", figures=board_queries.figures(clock.now()))


@bp.route("/outbox/<id:message_id>/retry", methods=["POST"])
@requires(Permission.SUPERVISE)
def retry(message_id: int) -> Response:
    try:
        supervision.retry_email(_actor(), message_id)
    except NotFound:
        abort(404)
    flash("The e-mail will be tried again in a moment.")
    return redirect(url_for("supervisor.board") + "#failed")
