"""Administrators: API clients (tokens shown once, revoked at once) and webhook events that
ran out of retries. No case content is reachable from here."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, SelectMultipleField, StringField

from referrals import clock
from referrals.models.api_client import ApiClientKind, ApiScope
from referrals.queries import agencies as agency_queries
from referrals.queries import board
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import api_clients, outbox
from referrals.services.errors import InvalidInput, NotFound
from referrals.web.forms import (
    Radios,
    Select,
    TextInput,
    attach_errors,
    enum_or_none,
    error_list,
    options,
)
from referrals.web.requests import actor, bounded_int

bp = Blueprint("api_clients", __name__, url_prefix="/admin/api-clients")

EXPIRY = {"30": 30, "90": 90, "365": 365, "never": None}


class ApiClientForm(FlaskForm):
    name = StringField(
        "Name", description="The system, like “Lambeth front door (Mosaic)”", widget=TextInput()
    )
    kind = RadioField(
        "What kind of client is it?",
        choices=options([(k.value, k.label) for k in ApiClientKind]),
        widget=Radios(),
        validate_choice=False,
    )
    agency = SelectField(
        "Partner agency",
        description="Partner clients only: the one agency it acts for",
        widget=Select(),
        validate_choice=False,
    )
    scopes = SelectMultipleField(
        "What may it do?",
        choices=options([(s.value, f"{s.label} ({s.value})") for s in ApiScope]),
        widget=GovCheckboxesInput(),
        validate_choice=False,
    )
    expires = RadioField(
        "When does the token expire?",
        choices=options(
            [
                ("30", "In 30 days"),
                ("90", "In 90 days"),
                ("365", "In a year"),
                ("never", "Never (revoke it by hand)"),
            ]
        ),
        default="365",
        widget=Radios(),
        validate_choice=False,
    )


@bp.route("/")
@requires(Permission.MANAGE_API_CLIENTS)
def index() -> str:
    return render_template(
        "api_clients/index.html",
        clients=api_clients.listed(),
        failed=board.failed_email(webhooks=True),
        now=clock.now(),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_API_CLIENTS)
def new() -> str | tuple[str, int]:
    form = ApiClientForm()
    form.agency.choices = options(
        [("", "None"), *agency_queries.active_choices(partners_only=True)]
    )
    if request.method == "POST":
        days = EXPIRY.get(form.expires.data or "", 365)
        try:
            made = api_clients.create(
                actor(),
                name=form.name.data or "",
                kind=enum_or_none(ApiClientKind, form.kind.data),
                agency_id=bounded_int(form.agency.data or ""),
                scopes=form.scopes.data or [],
                expires_at=clock.now() + timedelta(days=days) if days else None,
            )
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors, {"expires": "expires"})
        else:
            return render_template("api_clients/token.html", made=made)
    errors = error_list(form)
    page = render_template("api_clients/form.html", form=form, errors=errors)
    return (page, 400) if errors else page


@bp.route("/<id:client_id>/revoke", methods=["POST"])
@requires(Permission.MANAGE_API_CLIENTS)
def revoke(client_id: int) -> Response:
    try:
        client = api_clients.revoke(actor(), client_id)
    except NotFound:
        flash("No such API client.", "refused")
    else:
        flash(f"The token of {client.name} is revoked: its next call is refused.")
    return redirect(url_for("api_clients.index"))


@bp.route("/events/<id:message_id>/retry", methods=["POST"])
@requires(Permission.MANAGE_API_CLIENTS)
def retry(message_id: int) -> Response:
    if outbox.resend(message_id, clock.now()) is None:
        flash("That event is not waiting to be retried.", "refused")
    else:
        flash("The event will be sent again, with the same id.")
    return redirect(url_for("api_clients.index"))
