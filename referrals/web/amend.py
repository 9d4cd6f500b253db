"""Amending a logged incident: add a child or an adult found later, correct a person's or the
incident's details. What is corrected is typed afresh (the form never shows what was recorded:
reading identities is a reveal, with a reason, elsewhere)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from werkzeug.wrappers import Response
from wtforms import FormField, StringField, TextAreaField

from referrals.extensions import db
from referrals.models.incident import Incident, IncidentPerson, PersonRole
from referrals.queries import incidents as incident_queries
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import amend
from referrals.services.errors import InvalidInput, NotFound
from referrals.web.forms import DayMonthYearField, attach_errors, error_list, london_moment
from referrals.web.intake_form import AdultForm, ChildForm, adult_input, child_input, yes_no
from referrals.web.requests import actor

bp = Blueprint("amend", __name__, url_prefix="/desk/incidents")


def _reason_field(label: str) -> TextAreaField:
    return TextAreaField(
        label, description="Recorded in the audit trail with your name", widget=GovTextArea()
    )


class AddChildForm(FlaskForm):
    person = FormField(ChildForm)
    learned_date = DayMonthYearField("Date the desk learned of them")
    learned_time = StringField(
        "Time the desk learned of them", description="24-hour clock", widget=GovTextInput()
    )
    reason = _reason_field("How did the desk learn of them?")


class AddAdultForm(AddChildForm):
    person = FormField(AdultForm)


class ChildCorrection(ChildForm):
    """The intake form's questions about a child, less those that would change routing (a
    school or borough corrected after sending is a new recipient: re-route instead)."""

    borough = None
    school_urn = None
    home_educated = None


class AdultCorrection(AdultForm):
    role = None


class CorrectChildForm(FlaskForm):
    person = FormField(ChildCorrection)
    reason = _reason_field("Why correct it?")


class CorrectAdultForm(FlaskForm):
    person = FormField(AdultCorrection)
    reason = _reason_field("Why correct it?")


class CorrectIncidentForm(FlaskForm):
    location = StringField("Location", description="Address or place", widget=GovTextInput())
    summary = TextAreaField("What happened, in brief", widget=GovTextArea())
    reason = _reason_field("Why correct it?")


def _incident_or_404(incident_id: int) -> Incident:
    incident = incident_queries.incident_with_people(incident_id)
    if incident is None:
        abort(404)
    return incident


def _show(
    template: str,
    form: FlaskForm,
    context: dict[str, object],
    unplaced: dict[str, str] | None = None,
) -> tuple[str, int]:
    errors = error_list(form, unplaced)
    return render_template(template, form=form, errors=errors, **context), 400 if errors else 200


@bp.route("/<id:incident_id>/people/new", methods=["GET", "POST"])
@requires(Permission.LOG_INCIDENT)
def add_person(incident_id: int) -> Response | tuple[str, int]:
    """A child (or adult) the desk learned of after logging: checked as at intake; after
    sending, routed on their own from the incident page."""
    incident = _incident_or_404(incident_id)
    child = request.args.get("kind", "child") != "adult"
    form = AddChildForm() if child else AddAdultForm()
    context: dict[str, object] = {"incident_id": incident_id, "incident": incident, "child": child}
    if request.method == "GET":
        return _show("desk/add_person.html", form, context)
    form.validate()
    learned, problem = london_moment(form.learned_date.data, form.learned_time.data, "learning")
    who = child_input(form.person.form) if child else adult_input(form.person.form)
    try:
        if form.errors or problem:
            raise InvalidInput({"learned_time": problem} if problem else {})
        amend.add_person(actor(), incident_id, who, learned, form.reason.data or "")
    except InvalidInput as invalid:
        unplaced = attach_errors(form, invalid.errors, {"learned": "learned_date"})
        return _show("desk/add_person.html", form, context, unplaced)
    except NotFound:
        abort(404)
    flash(
        f"{'Child' if child else 'Adult'} added. If the referrals were sent already, send theirs "
        "now: they are proposed below."
    )
    return redirect(url_for("desk.incident", incident_id=incident_id) + "#routing")


@bp.route("/<id:incident_id>/people/<id:link_id>/correct", methods=["GET", "POST"])
@requires(Permission.LOG_INCIDENT)
def correct_person(incident_id: int, link_id: int) -> Response | tuple[str, int]:
    link = db.session.get(IncidentPerson, link_id)
    if link is None or link.incident_id != incident_id:
        abort(404)
    child = link.role is PersonRole.CHILD
    form = CorrectChildForm() if child else CorrectAdultForm()
    context: dict[str, object] = {"incident_id": incident_id, "link": link, "child": child}
    if request.method == "GET":
        return _show("desk/correct_person.html", form, context)
    form.validate()
    fields = form.person.form

    def typed(name: str) -> str:  # an adult's form has no child's questions: "" for those
        field = getattr(fields, name, None)
        return str(field.data or "") if field is not None else ""

    correction = amend.Correction(
        given_name=typed("given_name"),
        family_name=typed("family_name"),
        date_of_birth=fields.date_of_birth.data,
        address=typed("address"),
        phone=typed("phone"),
        lives_there=yes_no(typed("lives_there")),
        present=yes_no(typed("present")),
        present_where=typed("present_where"),
        spoken_to=yes_no(typed("spoken_to")),
        voice=typed("voice"),
        known_to_social_care=yes_no(typed("known_to_social_care")),
    )
    try:
        if form.errors:
            raise InvalidInput({})
        amend.correct_person(actor(), incident_id, link_id, correction, form.reason.data or "")
    except InvalidInput as invalid:
        unplaced = attach_errors(form, invalid.errors)
        return _show("desk/correct_person.html", form, context, unplaced)
    except NotFound:
        abort(404)
    flash(f"{link.person.pseudonym}'s details corrected. Partners holding a referral are told.")
    return redirect(url_for("desk.incident", incident_id=incident_id))


@bp.route("/<id:incident_id>/correct", methods=["GET", "POST"])
@requires(Permission.LOG_INCIDENT)
def correct_incident(incident_id: int) -> Response | tuple[str, int]:
    incident = _incident_or_404(incident_id)
    form = CorrectIncidentForm()
    if request.method == "POST":
        try:
            amend.correct_incident(
                actor(),
                incident_id,
                form.location.data or "",
                form.summary.data or "",
                form.reason.data or "",
            )
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        except NotFound:
            abort(404)
        else:
            flash("The incident's details were corrected. Partners holding a referral are told.")
            return redirect(url_for("desk.incident", incident_id=incident_id))
    return _show(
        "desk/correct_incident.html", form, {"incident_id": incident_id, "incident": incident}
    )
