"""The desk's side of referrals: routing an incident, sending, and following each referral."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextArea, GovTextInput
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.models.incident import Incident
from referrals.profiles import decline_label, outcome_label
from referrals.security.access import requires
from referrals.security.permissions import Permission, role_has
from referrals.services import desk_work, routing, supervision
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.errors import DomainError, InvalidInput, NotFound
from referrals.web.desk import incident_page
from referrals.web.forms import attach_errors, error_list, options, perform
from referrals.web.requests import actor, bounded_int
from referrals.web.supervisor_forms import ChaseForm, supervisor_forms

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


class AcceptDeclineForm(FlaskForm):
    reason = TextAreaField(
        "Why the desk accepts the decline",
        description="Recorded in the audit trail. For example: the child moved school in July",
        widget=GovTextArea(),
    )


class RerouteForm(FlaskForm):
    agency = SelectField(
        "Send it to",
        description="A borough's front door or MARAC coordinator",
        widget=GovSelect(),
        validate_choice=False,
    )
    school_urn = StringField(
        "Or a school's URN", description="6 digits, for a school or setting", widget=GovTextInput()
    )
    reason = TextAreaField("Why send it there", widget=GovTextArea())


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
                actor(),
                incident.id,
                bounded_int(subject) or 0,
                bounded_int(agency) or 0,
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
        agency=db.session.get(Agency, chosen)
        if (chosen := bounded_int(form.agency.data))
        else None,
    )
    return (page, 400) if errors else page


@bp.route("/incidents/<id:incident_id>/send", methods=["POST"])
@requires(Permission.SEND_REFERRALS)
def send(incident_id: int) -> Response | tuple[str, int]:
    waivers = {
        person: v
        for k, v in request.form.items()
        if k.startswith("waiver-") and (person := bounded_int(k.removeprefix("waiver-")))
    }
    try:
        referrals = routing.send(actor(), incident_id, waivers)
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
        referral, view = lifecycle.open_for_desk(actor(), referral_id)
    except NotFound:
        abort(404)
    reroute = forms.get("reroute") or RerouteForm(formdata=None, prefix="reroute")
    reroute.agency.choices = options([("", "Choose an agency"), *routing.front_door_choices()])
    return render_template(
        "desk/referral.html",
        referral=referral,
        view=view,
        now=clock.now(),
        outcome=outcome_label(referral.agency.kind, referral.decision),
        declined_because=decline_label(referral.agency.kind, referral.decline_category),
        accept=forms.get("accept") or AcceptDeclineForm(formdata=None, prefix="accept"),
        reroute=reroute,
        thread=lifecycle.thread(referral),
        history=lifecycle.history(referral),
        reply=forms.get("reply") or ReplyForm(formdata=None),
        pause=forms.get("pause") or ReasonForm(formdata=None, prefix="pause"),
        withdraw=forms.get("withdraw") or ReasonForm(formdata=None, prefix="withdraw"),
        chase=forms.get("chase") or ChaseForm(formdata=None, prefix="chase"),
        supervise=_supervisor_forms(forms),
        errors=[e for f in forms.values() for e in error_list(f)],
    ), status


def _supervisor_forms(posted: dict[str, FlaskForm]) -> dict[str, FlaskForm]:
    if not role_has(current_user.role, Permission.SUPERVISE):
        return {}
    forms = supervisor_forms()
    forms.update({k: v for k, v in posted.items() if k in forms})
    return forms


@bp.route("/referrals/<id:referral_id>")
@requires(Permission.VIEW_INCIDENT)
def referral(referral_id: int) -> tuple[str, int]:
    return referral_page(referral_id)


def act_on_referral(
    referral_id: int, name: str, form: FlaskForm | None, action: Callable[[], str]
) -> Response | tuple[str, int]:
    """Run one action on a referral from its desk page (see :func:`perform`)."""
    return perform(
        action,
        form=form,
        show_again=lambda: referral_page(referral_id, status=400, **({name: form} if form else {})),
        back=url_for("dispatch.referral", referral_id=referral_id),
    )


@bp.route("/referrals/<id:referral_id>/pause", methods=["POST"])
@requires(Permission.MANAGE_REFERRALS)
def pause(referral_id: int) -> Response | tuple[str, int]:
    form = ReasonForm(prefix="pause")

    def run() -> str:
        lifecycle.pause(actor(), referral_id, form.reason.data or "")
        return "Referral paused: its deadline stops until you resume it."

    return act_on_referral(referral_id, "pause", form, run)


@bp.route("/referrals/<id:referral_id>/resume", methods=["POST"])
@requires(Permission.MANAGE_REFERRALS)
def resume(referral_id: int) -> Response | tuple[str, int]:
    def run() -> str:
        found = lifecycle.resume(actor(), referral_id)
        due = found.clock_due_at
        return f"Referral resumed: now due {clock.shown(due)}." if due else "Referral resumed."

    return act_on_referral(referral_id, "resume", None, run)


@bp.route("/referrals/<id:referral_id>/withdraw", methods=["POST"])
@requires(Permission.MANAGE_REFERRALS)
def withdraw(referral_id: int) -> Response | tuple[str, int]:
    form = ReasonForm(prefix="withdraw")

    def run() -> str:
        lifecycle.withdraw(actor(), referral_id, form.reason.data or "")
        return "Referral withdrawn: the partner can no longer see it."

    return act_on_referral(referral_id, "withdraw", form, run)


@bp.route("/referrals/<id:referral_id>/reply", methods=["POST"])
@requires(Permission.MANAGE_REFERRALS)
def reply(referral_id: int) -> Response | tuple[str, int]:
    form = ReplyForm()

    def run() -> str:
        who = actor()
        lifecycle.post_message(
            who, lifecycle.for_desk(who, referral_id), form.body.data or "", from_desk=True
        )
        return "Your answer was sent to the partner."

    return act_on_referral(referral_id, "reply", form, run)


@bp.route("/referrals/<id:referral_id>/decline/accept", methods=["POST"])
@requires(Permission.MANAGE_REFERRALS)
def accept_decline(referral_id: int) -> Response | tuple[str, int]:
    form = AcceptDeclineForm(prefix="accept")

    def run() -> str:
        desk_work.accept_decline(actor(), referral_id, form.reason.data or "")
        return "Decline accepted. It has left the desk's list."

    return act_on_referral(referral_id, "accept", form, run)


@bp.route("/referrals/<id:referral_id>/decline/reroute", methods=["POST"])
@requires(Permission.MANAGE_REFERRALS)
def reroute(referral_id: int) -> Response | tuple[str, int]:
    form = RerouteForm(prefix="reroute")

    def run() -> str:
        urn = (form.school_urn.data or "").strip()
        chosen = bounded_int(form.agency.data) or 0
        if urn:
            school = routing.school_by_urn(urn)
            if school is None:
                raise InvalidInput({"school_urn": f"No school with URN {urn} is known to the desk"})
            chosen = school.id
        sent = desk_work.reroute(actor(), referral_id, chosen, form.reason.data or "")
        return f"Sent to {sent.agency.name} instead, as {sent.reference}."

    return act_on_referral(referral_id, "reroute", form, run)


@bp.route("/referrals/<id:referral_id>/seen", methods=["POST"])
@requires(Permission.MANAGE_REFERRALS)
def mark_seen(referral_id: int) -> Response | tuple[str, int]:
    def run() -> str:
        desk_work.mark_seen(actor(), referral_id)
        return "Decision marked seen."

    back = request.form.get("back") == "needs"
    response = act_on_referral(referral_id, "seen", None, run)
    return redirect(url_for("needs.listing") + "#decisions") if back else response


@bp.route("/referrals/<id:referral_id>/chase", methods=["POST"])
@requires(Permission.MANAGE_REFERRALS)
def chase(referral_id: int) -> Response | tuple[str, int]:
    """A phone call to the partner: before school, or when a referral is overdue."""
    form = ChaseForm(prefix="chase")

    def run() -> str:
        supervision.record_chase(
            actor(), referral_id, form.outcome.data or "", form.note.data or ""
        )
        return "Phone call recorded."

    return act_on_referral(referral_id, "chase", form, run)
