"""Administrators: routing rules, deadline policies and school calendars (configuration as data)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSelect, GovTextInput
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, SelectField, StringField

from referrals.calendars import RuleKind
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.calendar import ClosureKind, SchoolClosure
from referrals.models.deadlines import DeadlineClock, DeadlinePolicy
from referrals.models.incident import RiskGrade
from referrals.models.routing import RoutingRule
from referrals.reference import borough_choices
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import configuration
from referrals.services.errors import InvalidInput, NotFound
from referrals.web.forms import (
    DayMonthYearField,
    attach_errors,
    enum_or_none,
    error_list,
    options,
)
from referrals.web.requests import actor

bp = Blueprint("configuration", __name__, url_prefix="/admin")


class RuleForm(FlaskForm):
    active = BooleanField("The rule is in use", widget=GovCheckboxInput())
    effective_from = DayMonthYearField("Applies from")
    effective_to = DayMonthYearField("Applies until", description="Leave blank for no end")


class PolicyForm(FlaskForm):
    agency_kind = SelectField(
        "Kind of agency",
        widget=GovSelect(),
        validate_choice=False,
        choices=options([("", "Choose")] + [(k.value, k.label) for k in AgencyKind]),
    )
    clock = SelectField(
        "Deadline it sets",
        widget=GovSelect(),
        validate_choice=False,
        choices=options([("", "Choose")] + [(c.value, c.label) for c in DeadlineClock]),
    )
    risk_grade = SelectField(
        "Risk grade",
        widget=GovSelect(),
        validate_choice=False,
        choices=options([("", "Every grade")] + [(g.value, g.label) for g in RiskGrade]),
    )
    rule_kind = SelectField(
        "Deadline",
        widget=GovSelect(),
        validate_choice=False,
        choices=options([("", "Choose")] + [(r.value, r.label) for r in RuleKind]),
    )
    amount = IntegerField("How many", default=1, widget=GovTextInput())
    effective_from = DayMonthYearField("Applies from")


class ClosureForm(FlaskForm):
    borough_code = SelectField(
        "Borough",
        description="Every school in the borough",
        widget=GovSelect(),
        validate_choice=False,
        choices=lambda: options([("", "None: one school"), *borough_choices()]),
    )
    school_urn = StringField("Or one school's URN", widget=GovTextInput())
    kind = SelectField(
        "Kind",
        widget=GovSelect(),
        validate_choice=False,
        choices=options([("", "Choose")] + [(k.value, k.label) for k in ClosureKind]),
    )
    starts_on = DayMonthYearField("First day closed")
    ends_on = DayMonthYearField("Last day closed")
    label = StringField(
        "Label", description="For example, Autumn half-term 2026", widget=GovTextInput()
    )


def _page(template: str, form: FlaskForm, **context: object) -> str | tuple[str, int]:
    errors = error_list(form)
    page = render_template(template, form=form, errors=errors, **context)
    return (page, 400) if errors else page


@bp.route("/routing-rules")
@requires(Permission.MANAGE_ROUTING)
def rules() -> str:
    rows = db.session.scalars(select(RoutingRule).order_by(RoutingRule.id)).all()
    return render_template("configuration/rules.html", rules=rows)


@bp.route("/routing-rules/<id:rule_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_ROUTING)
def edit_rule(rule_id: int) -> str | Response | tuple[str, int]:
    rule = db.session.get(RoutingRule, rule_id) or abort(404)
    form = RuleForm(obj=rule) if request.method == "GET" else RuleForm()
    if request.method == "POST":
        form.validate()
        if not form.errors:
            try:
                configuration.update_rule(
                    actor(),
                    rule.id,
                    active=bool(form.active.data),
                    effective_from=form.effective_from.data,
                    effective_to=form.effective_to.data,
                )
            except InvalidInput as invalid:
                attach_errors(form, invalid.errors)
            else:
                flash("Routing rule saved. It applies to incidents routed from now on.")
                return redirect(url_for("configuration.rules"))
    return _page("configuration/rule_form.html", form, rule=rule)


@bp.route("/deadlines", methods=["GET", "POST"])
@requires(Permission.MANAGE_ROUTING)
def deadlines() -> str | Response | tuple[str, int]:
    form = PolicyForm() if request.method == "POST" else PolicyForm(formdata=None)
    if request.method == "POST":
        form.validate()
        if not form.errors:
            try:
                configuration.add_policy(
                    actor(),
                    configuration.PolicyInput(
                        agency_kind=enum_or_none(AgencyKind, form.agency_kind.data),
                        clock=enum_or_none(DeadlineClock, form.clock.data),
                        risk_grade=enum_or_none(RiskGrade, form.risk_grade.data),
                        rule_kind=enum_or_none(RuleKind, form.rule_kind.data),
                        amount=form.amount.data,
                        effective_from=form.effective_from.data,
                    ),
                )
            except InvalidInput as invalid:
                attach_errors(form, invalid.errors)
            else:
                flash("Deadline policy added. It applies to referrals sent from its start date.")
                return redirect(url_for("configuration.deadlines"))
    policies = db.session.scalars(
        select(DeadlinePolicy).order_by(
            DeadlinePolicy.agency_kind, DeadlinePolicy.clock, DeadlinePolicy.effective_from.desc()
        )
    ).all()
    return _page("configuration/deadlines.html", form, policies=policies)


@bp.route("/closures", methods=["GET", "POST"])
@requires(Permission.MANAGE_ROUTING)
def closures() -> str | Response | tuple[str, int]:
    form = ClosureForm() if request.method == "POST" else ClosureForm(formdata=None)
    if request.method == "POST":
        form.validate()
        if not form.errors:
            try:
                configuration.add_closure(
                    actor(),
                    configuration.ClosureInput(
                        borough_code=form.borough_code.data or "",
                        school_urn=form.school_urn.data or "",
                        kind=enum_or_none(ClosureKind, form.kind.data),
                        starts_on=form.starts_on.data,
                        ends_on=form.ends_on.data,
                        label=form.label.data or "",
                    ),
                )
            except InvalidInput as invalid:
                attach_errors(form, invalid.errors)
            else:
                flash("Closure added. Deadlines for these schools now skip those days.")
                return redirect(url_for("configuration.closures"))
    rows = db.session.execute(
        select(SchoolClosure, Agency.name)
        .outerjoin(Agency, Agency.id == SchoolClosure.school_id)
        .order_by(SchoolClosure.starts_on.desc())
        .limit(200)
    ).all()
    return _page("configuration/closures.html", form, closures=rows)


@bp.route("/closures/<id:closure_id>/remove", methods=["POST"])
@requires(Permission.MANAGE_ROUTING)
def remove_closure(closure_id: int) -> Response:
    try:
        configuration.remove_closure(actor(), closure_id)
    except NotFound:
        abort(404)
    flash("Closure removed.")
    return redirect(url_for("configuration.closures"))
