"""The desk's side of referrals: routing an incident, sending, and following each referral."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextArea
from werkzeug.wrappers import Response
from wtforms import SelectField, TextAreaField

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.models.incident import Incident
from referrals.security.access import requires
from referrals.security.permissions import Permission, role_has
from referrals.services import referral_lifecycle as lifecycle
from referrals.services import routing
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput, NotFound
from referrals.web.desk import incident_page
from referrals.web.forms import attach_errors, error_list, options
from referrals.web.supervisor_forms import supervisor_forms

bp = Blueprint("dispatch", __name__, url_prefix="/desk")


class RecipientForm(FlaskForm):
    subject_id = SelectField("Person", widget=GovSelect(), validate_choice=False)
    agency = SelectField("Agency", widget=GovSelect(), validate_choice=False)
    reason = TextAreaField(
        "Reason", description="Recorded in the audit trail", widget=GovTextArea()
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", widget=GovTextArea())


class ReplyForm(FlaskForm):
    body = TextAreaField("Answer the partner", widget=GovTextArea())


def _actor() -> Actor:
    return Actor.of(current_user.user)


def _incident_or_404(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        abort(404)
    return incident


@bp.route("/incidents/<id:incident_id>/routing/<any(add, remove):action>", methods=["GET", "POST"])
@requires(Permission.SEND_REFERRALS)
def change_recipient(incident_id: int, action: str) -> str | Response | tuple[str, int]:
    incident = _incident_or_404(incident_id)
    form = RecipientForm(
        formdata=request.form if request.method == "POST" else None,
        subject_id=request.args.get("subject", ""),
        agency=request.args.get("agency", ""),
    )
    form.subject_id.choices = options(
        [(str(p.id), f"{p.person.pseudonym} ({p.role.label})") for p in incident.people]
    )
    agencies = routing.partner_agencies()
    form.agency.choices = options(
        [("", "Choose an agency")] + [(str(a.id), f"{a.name} ({a.kind.label})") for a in agencies]
    )
    if request.method == "POST":
        subject, agency = form.subject_id.data or "", form.agency.data or ""
        try:
            routing.change_recipient(
                _actor(),
                incident.id,
                int(subject) if subject.isdigit() else 0,
                int(agency) if agency.isdigit() else 0,
                add=action == "add",
                reason=form.reason.data or "",
            )
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        except DomainError as refused:
            flash(str(refused), "refused")
            return redirect(url_for("desk.incident", incident_id=incident.id))
        else:
            flash("Recipient added." if action == "add" else "Recipient removed.")
            return redirect(url_for("desk.incident", incident_id=incident.id) + "#routing")
    errors = error_list(form)
    page = render_template(
        "desk/change_recipient.html",
        form=form,
        incident=incident,
        action=action,
        errors=errors,
        agency=db.session.get(Agency, int(form.agency.data))
        if (form.agency.data or "").isdigit()
        else None,
    )
    return (page, 400) if errors else page


@bp.route("/incidents/<id:incident_id>/send", methods=["POST"])
@requires(Permission.SEND_REFERRALS)
def send(incident_id: int) -> Response | tuple[str, int]:
    waivers = {
        int(k.removeprefix("waiver-")): v
        for k, v in request.form.items()
        if k.startswith("waiver-") and k.removeprefix("waiver-").isdigit()
    }
    try:
        referrals = routing.send(_actor(), incident_id, waivers)
    except NotFound:
        abort(404)
    except InvalidInput as invalid:
        return incident_page(incident_id, send_errors=invalid.errors, waivers=waivers)
    except DomainError as refused:
        flash(str(refused), "refused")
    else:
        flash(f"{len(referrals)} referral{'s' if len(referrals) != 1 else ''} sent.")
    return redirect(url_for("desk.incident", incident_id=incident_id))


def referral_page(referral_id: int, *, status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    try:
        referral = lifecycle.for_desk(_actor(), referral_id)
    except NotFound:
        abort(404)
    return render_template(
        "desk/referral.html",
        referral=referral,
        now=clock.now(),
        thread=lifecycle.thread(referral),
        history=lifecycle.history(referral),
        reply=forms.get("reply") or ReplyForm(formdata=None),
        pause=forms.get("pause") or ReasonForm(formdata=None, prefix="pause"),
        withdraw=forms.get("withdraw") or ReasonForm(formdata=None, prefix="withdraw"),
        supervise=_supervisor_forms(referral_id, forms),
        errors=[e for f in forms.values() for e in error_list(f)],
    ), status


def _supervisor_forms(referral_id: int, posted: dict[str, FlaskForm]) -> dict[str, FlaskForm]:
    if not role_has(current_user.role, Permission.SUPERVISE):
        return {}
    forms = supervisor_forms(referral_id)
    forms.update({k: v for k, v in posted.items() if k in forms})
    return forms


@bp.route("/referrals/<id:referral_id>")
@requires(Permission.VIEW_INCIDENT)
def referral(referral_id: int) -> tuple[str, int]:
    return referral_page(referral_id)


@bp.route(
    "/referrals/<id:referral_id>/<any(pause, resume, withdraw, reply):action>", methods=["POST"]
)
@requires(Permission.MANAGE_REFERRALS)
def act(referral_id: int, action: str) -> Response | tuple[str, int]:
    actor = _actor()
    form: FlaskForm = ReplyForm() if action == "reply" else ReasonForm(prefix=action)
    try:
        if action == "pause":
            lifecycle.pause(actor, referral_id, form.reason.data or "")
            flash("Referral paused: its deadline stops until you resume it.")
        elif action == "resume":
            found = lifecycle.resume(actor, referral_id)
            flash(f"Referral resumed: now due {clock.to_london(found.due_at):%-d %b %Y %H:%M}.")
        elif action == "withdraw":
            lifecycle.withdraw(actor, referral_id, form.reason.data or "")
            flash("Referral withdrawn: the partner can no longer see it.")
        else:
            found = lifecycle.for_desk(actor, referral_id)
            lifecycle.post_message(actor, found, form.body.data or "", from_desk=True)
            flash("Your answer was sent to the partner.")
    except NotFound:
        abort(404)
    except InvalidInput as invalid:
        attach_errors(form, invalid.errors)
        return referral_page(referral_id, status=400, **{action: form})
    except DomainError as refused:
        flash(str(refused), "refused")
    return redirect(url_for("dispatch.referral", referral_id=referral_id))
