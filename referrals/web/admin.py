"""Administrators: agencies and users. No case content is reachable from here."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovSelect,
    GovTextInput,
)
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.user import Role, User
from referrals.queries import agencies as agency_queries
from referrals.reference import borough_choices
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.passwords import NO_PASSWORD
from referrals.security.permissions import Permission
from referrals.services import admin, factors
from referrals.services.errors import DomainError, InvalidInput
from referrals.web.forms import attach_errors, error_list, options
from referrals.web.requests import MAX_PAGE, actor, bounded_int, enum_arg, int_arg

bp = Blueprint("admin", __name__, url_prefix="/admin")


class AgencyForm(FlaskForm):
    code = StringField(
        "Code", description="Short and unique, like CSC-E09000022", widget=GovTextInput()
    )
    name = StringField("Name", widget=GovTextInput())
    kind = SelectField(
        "Kind",
        choices=options([("", "Choose a kind")] + [(k.value, k.label) for k in AgencyKind]),
        widget=GovSelect(),
        validate_choice=False,
    )
    borough_code = SelectField(
        "Borough",
        choices=lambda: options([("", "None"), *borough_choices()]),
        widget=GovSelect(),
        validate_choice=False,
    )
    school_urn = StringField(
        "School URN", description="6 digits, schools and settings only", widget=GovTextInput()
    )
    notice_email = StringField("Notice e-mail address", widget=GovTextInput())
    duty_manager_email = StringField(
        "Duty manager e-mail address", description="Escalations go here", widget=GovTextInput()
    )
    contact_phone = StringField(
        "Phone number", description="A number the desk can ring", widget=GovTextInput()
    )
    work_start = StringField(
        "Working day starts", description="Leave blank for the usual hours", widget=GovTextInput()
    )
    work_end = StringField("Working day ends", widget=GovTextInput())
    school_day_start = StringField(
        "School day starts", description="Schools only; 08:30 if blank", widget=GovTextInput()
    )
    active = BooleanField("Active", widget=GovCheckboxInput(), default=True)


class UserForm(FlaskForm):
    email = StringField("E-mail address", widget=GovTextInput())
    display_name = StringField("Name", widget=GovTextInput())
    role = SelectField(
        "Role",
        choices=options([("", "Choose a role")] + [(r.value, r.label) for r in Role]),
        widget=GovSelect(),
        validate_choice=False,
    )
    agency_id = SelectField(
        "Agency", description="Partner users only", widget=GovSelect(), validate_choice=False
    )
    active = BooleanField("Active", widget=GovCheckboxInput(), default=True)


def _agency_input(form: AgencyForm) -> admin.AgencyInput:
    kinds = {k.value for k in AgencyKind}
    return admin.AgencyInput(
        code=form.code.data or "",
        name=form.name.data or "",
        kind=AgencyKind(form.kind.data) if form.kind.data in kinds else None,
        borough_code=form.borough_code.data or "",
        school_urn=form.school_urn.data or "",
        notice_email=form.notice_email.data or "",
        active=bool(form.active.data),
        duty_manager_email=form.duty_manager_email.data or "",
        work_start=form.work_start.data or "",
        work_end=form.work_end.data or "",
        school_day_start=form.school_day_start.data or "",
        contact_phone=form.contact_phone.data or "",
    )


def _agency_choices() -> list[SelectChoice]:
    return options([("", "None"), *agency_queries.active_choices()])


def _user_input(form: UserForm) -> admin.UserInput:
    roles = {r.value for r in Role}
    agency = form.agency_id.data or ""
    return admin.UserInput(
        email=form.email.data or "",
        display_name=form.display_name.data or "",
        role=Role(form.role.data) if form.role.data in roles else None,
        agency_id=bounded_int(agency),
        active=bool(form.active.data),
    )


@bp.route("/agencies")
@requires(Permission.MANAGE_AGENCIES)
def agencies() -> str:
    kind = request.args.get("kind", "")
    found = agency_queries.listing(
        enum_arg("kind", AgencyKind),
        int_arg("page", MAX_PAGE) or 1,
        runtime().settings.page_size,
    )
    return render_template(
        "admin/agencies.html",
        agencies=found.items,
        kind=kind,
        page=found.page,
        pages=found.pages,
        total=found.total,
        kinds=list(AgencyKind),
    )


@bp.route("/agencies/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGENCIES)
def new_agency() -> str | Response | tuple[str, int]:
    form = AgencyForm()
    if request.method == "POST":
        try:
            agency = admin.create_agency(actor(), _agency_input(form))
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        else:
            flash(f"Agency {agency.name} created.")
            return redirect(url_for("admin.agencies"))
    return _form_page("admin/agency_form.html", form, title="Add an agency")


@bp.route("/agencies/<id:agency_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGENCIES)
def edit_agency(agency_id: int) -> str | Response | tuple[str, int]:
    agency = db.session.get(Agency, agency_id) or abort(404)
    form = AgencyForm(obj=agency) if request.method == "GET" else AgencyForm()
    if request.method == "GET":
        form.kind.data = agency.kind.value
        form.borough_code.data = agency.borough_code or ""
        form.work_start.data = agency.work_start.strftime("%H:%M")
        form.work_end.data = agency.work_end.strftime("%H:%M")
        form.school_day_start.data = (
            agency.school_day_start.strftime("%H:%M") if agency.school_day_start else ""
        )
    else:
        try:
            admin.update_agency(actor(), agency, _agency_input(form))
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        else:
            flash(f"Agency {agency.name} saved.")
            return redirect(url_for("admin.agencies"))
    return _form_page("admin/agency_form.html", form, title=f"Edit {agency.name}")


@bp.route("/users")
@requires(Permission.MANAGE_USERS)
def users() -> str:
    found = agency_queries.users(int_arg("page", MAX_PAGE) or 1, runtime().settings.page_size)
    return render_template(
        "admin/users.html", users=found.items, page=found.page, total=found.total, pages=found.pages
    )


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def new_user() -> str | Response | tuple[str, int]:
    form = UserForm()
    form.agency_id.choices = _agency_choices()
    if request.method == "POST":
        try:
            user = admin.invite_user(actor(), _user_input(form))
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        else:
            flash(
                f"Invitation sent to {user.email}. The link works once, for 7 days: they set "
                "their own password and a second factor."
            )
            return redirect(url_for("admin.users"))
    return _form_page("admin/user_form.html", form, title="Invite a user", new=True)


@bp.route("/users/<id:user_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user) if request.method == "GET" else UserForm()
    form.agency_id.choices = _agency_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.agency_id.data = str(user.agency_id or "")
    else:
        try:
            admin.update_user(actor(), user, _user_input(form))
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        else:
            flash(f"User {user.email} saved. Any change of access signed them out everywhere.")
            return redirect(url_for("admin.users"))
    return _form_page(
        "admin/user_form.html",
        form,
        title=f"Edit {user.email}",
        new=False,
        user=user,
        factor_count=len(factors.factors_of(user.id)),
        invited=user.password_hash == NO_PASSWORD,
    )


@bp.route("/users/<id:user_id>/invitation", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def send_invitation(user_id: int) -> Response:
    user = db.session.get(User, user_id) or abort(404)
    try:
        admin.send_invitation(actor(), user)
    except DomainError as refused:
        flash(str(refused), "refused")
    else:
        flash(f"A new invitation link was sent to {user.email}; any earlier link stopped working.")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<id:user_id>/reset-factors", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def reset_factors(user_id: int) -> Response:
    user = db.session.get(User, user_id) or abort(404)
    admin.reset_factors(actor(), user)
    flash(
        f"Second factors of {user.email} removed and their sessions ended. They set up a new "
        "one when they next sign in."
    )
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _form_page(template: str, form: FlaskForm, **context: object) -> str | tuple[str, int]:
    errors = error_list(form)
    page = render_template(template, form=form, errors=errors, **context)
    return (page, 400) if errors else page
