"""The partner portal: an inbox of the referrals sent to the partner's own agency, and nothing
else. Every route answers 404 for a referral of another agency, exactly as for none at all."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea
from werkzeug.wrappers import Response
from wtforms import RadioField, TextAreaField

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.queries import referrals as referral_queries
from referrals.queries.paging import Cursor
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput, NotFound
from referrals.services.outcomes import outcome_label, outcomes_for
from referrals.web.forms import attach_errors, error_list, options

bp = Blueprint("portal", __name__, url_prefix="/portal")


class DeclineForm(FlaskForm):
    reason = TextAreaField("Why are you declining this referral?", widget=GovTextArea())


class DecisionForm(FlaskForm):
    outcome = RadioField("Outcome", widget=GovRadioInput(), validate_choice=False)
    note = TextAreaField("Note", description="Optional", widget=GovTextArea())


class MessageForm(FlaskForm):
    body = TextAreaField("Ask the desk for more information", widget=GovTextArea())


def _actor() -> Actor:
    return Actor.of(current_user.user)


@bp.route("/")
@requires(Permission.PARTNER_INBOX)
def inbox() -> str:
    agency = db.session.get(Agency, current_user.agency_id) if current_user.agency_id else None
    if agency is None:
        abort(403)
    tab_value = request.args.get("tab", "new")
    tab = next(
        (t for t in referral_queries.InboxTab if t.value == tab_value),
        referral_queries.InboxTab.NEW,
    )
    now = clock.now()
    page = referral_queries.inbox(
        agency.id,
        tab,
        now,
        older_than=Cursor.decode(request.args.get("older")),
        page_size=runtime().settings.page_size,
    )
    return render_template(
        "portal/inbox.html",
        agency=agency,
        page=page,
        tab=tab,
        tabs=list(referral_queries.InboxTab),
        counts=referral_queries.tab_counts(agency.id, now),
        now=now,
    )


def _page(referral_id: int, *, status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    try:
        referral, disclosure = lifecycle.open_for_partner(_actor(), referral_id)
    except NotFound:
        abort(404)
    decision = forms.get("decision") or DecisionForm()
    decision.outcome.choices = options(outcomes_for(referral.agency.kind))
    return render_template(
        "portal/referral.html",
        referral=referral,
        d=disclosure,
        now=clock.now(),
        decline=forms.get("decline") or DeclineForm(formdata=None),
        decision=decision,
        message=forms.get("message") or MessageForm(formdata=None),
        thread=lifecycle.thread(referral),
        history=lifecycle.history(referral),
        outcome=outcome_label(referral.agency.kind, referral.decision),
        errors=[e for f in forms.values() for e in error_list(f)],
    ), status


@bp.route("/referrals/<id:referral_id>")
@requires(Permission.PARTNER_INBOX)
def referral(referral_id: int) -> tuple[str, int]:
    return _page(referral_id)


def _act(
    referral_id: int, action: str, form: FlaskForm | None = None
) -> Response | tuple[str, int]:
    actor = _actor()
    try:
        if action == "acknowledge":
            lifecycle.acknowledge(actor, referral_id)
            flash("Referral acknowledged.")
        elif action == "decline" and isinstance(form, DeclineForm):
            lifecycle.decline(actor, referral_id, form.reason.data or "")
            flash("Referral declined. The desk can see your reason.")
        elif action == "decide" and isinstance(form, DecisionForm):
            lifecycle.decide(actor, referral_id, form.outcome.data or "", form.note.data or "")
            flash("Decision recorded.")
        elif action == "message" and isinstance(form, MessageForm):
            found = lifecycle.for_partner(actor, referral_id)
            lifecycle.post_message(actor, found, form.body.data or "", from_desk=False)
            flash("Your question was sent to the desk.")
    except NotFound:
        abort(404)
    except InvalidInput as invalid:
        assert form is not None
        attach_errors(form, invalid.errors)
        return _page(referral_id, status=400, **{action: form})
    except DomainError as refused:
        flash(str(refused), "refused")
    return redirect(url_for("portal.referral", referral_id=referral_id))


@bp.route("/referrals/<id:referral_id>/acknowledge", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def acknowledge(referral_id: int) -> Response | tuple[str, int]:
    return _act(referral_id, "acknowledge")


@bp.route("/referrals/<id:referral_id>/decline", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def decline(referral_id: int) -> Response | tuple[str, int]:
    return _act(referral_id, "decline", DeclineForm())


@bp.route("/referrals/<id:referral_id>/decision", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def decide(referral_id: int) -> Response | tuple[str, int]:
    return _act(referral_id, "decide", DecisionForm())


@bp.route("/referrals/<id:referral_id>/messages", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def message(referral_id: int) -> Response | tuple[str, int]:
    return _act(referral_id, "message", MessageForm())
