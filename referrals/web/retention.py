"""Retention review: the incidents due, and for each one a decision to retain (with a rationale
and the next review date) or to dispose of it for real."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovTextArea
from werkzeug.wrappers import Response
from wtforms import BooleanField, RadioField, TextAreaField

from referrals import clock
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import retention
from referrals.services.errors import InvalidInput, NotFound
from referrals.web.forms import DayMonthYearField, Radios, attach_errors, error_list, options
from referrals.web.requests import actor, int_arg

bp = Blueprint("retention", __name__, url_prefix="/retention")
RETAIN, DISPOSE = "retain", "dispose"


class ReviewForm(FlaskForm):
    decision = RadioField(
        "What do you decide?",
        widget=Radios(),
        choices=options(
            [(RETAIN, "Retain it until a later review"), (DISPOSE, "Dispose of it: erase it")]
        ),
        validate_choice=False,
    )
    rationale = TextAreaField(
        "Why must it be kept?",
        description="The rationale is kept with the decision and in the audit trail.",
        widget=GovTextArea(),
    )
    next_review_on = DayMonthYearField("Next review", description="For example, 21 11 2029")
    confirm = BooleanField(
        "I understand that disposal erases the incident, its referrals and the identities "
        "in it for good, and cannot be undone",
        widget=GovCheckboxInput(),
    )


@bp.route("/")
@requires(Permission.REVIEW_RETENTION)
def queue() -> str:
    page = retention.due(int_arg("page") or 1, runtime().settings.page_size)
    return render_template(
        "retention/queue.html",
        page=page,
        years=retention.years(),
        due_on=retention.review_due,
    )


@bp.route("/<id:incident_id>", methods=["GET", "POST"])
@requires(Permission.REVIEW_RETENTION)
def review(incident_id: int) -> Response | tuple[str, int]:
    try:
        shown = retention.open_for_review(actor(), incident_id)
    except NotFound:
        abort(404)
    form = ReviewForm()
    unplaced: dict[str, str] = {}
    if request.method == "POST":
        form.validate()  # the date boxes' own errors
        decision = form.decision.data
        if decision == RETAIN and not form.next_review_on.errors:
            try:
                retention.retain(
                    actor(), incident_id, form.rationale.data or "", form.next_review_on.data
                )
            except InvalidInput as invalid:
                unplaced = attach_errors(form, invalid.errors)
            except NotFound:
                abort(404)
            else:
                flash(
                    f"Retained until its next review on "
                    f"{clock.shown_date(form.next_review_on.data)}."
                )
                return redirect(url_for("retention.queue"))
        elif decision == DISPOSE:
            if not form.confirm.data:
                form.confirm.errors = ["Confirm that you understand disposal cannot be undone"]
            else:
                try:
                    done = retention.dispose(actor(), incident_id)
                except NotFound:
                    abort(404)
                flash(_disposed(done))
                return redirect(url_for("retention.queue"))
        elif decision != RETAIN:
            form.decision.errors = ["Choose whether to retain or dispose of the incident"]
    errors = error_list(form, unplaced)
    html = render_template("retention/review.html", form=form, errors=errors, shown=shown)
    return html, 400 if errors else 200


def _disposed(done: retention.Disposal) -> str:
    referrals = f"{done.referrals} referral{'s' if done.referrals != 1 else ''}"
    people = done.people_erased + done.people_kept
    said = f"Incident {done.police_reference} was disposed of: {referrals} and"
    if not done.people_kept:
        return f"{said} all {people} people erased."
    return (
        f"{said} {done.people_erased} of {people} people erased; {done.people_kept} appear in "
        "incidents still kept and keep their pseudonyms."
    )
