"""The partner portal: an inbox of the referrals sent to the partner's own agency, and nothing
else. Every route answers 404 for a referral of another agency, exactly as for none at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from werkzeug.wrappers import Response
from wtforms import RadioField, TextAreaField

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.models.referral import Referral
from referrals.profiles import outcome_label, profile
from referrals.queries import referrals as referral_queries
from referrals.queries.paging import Cursor
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import disclosure as disclosure_service
from referrals.services import exports, partner_views
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.errors import DomainError, InvalidInput, NotFound
from referrals.web.downloads import Row, download
from referrals.web.forms import Radios, error_list, options, perform
from referrals.web.requests import actor, bounded_int

bp = Blueprint("portal", __name__, url_prefix="/portal")


class DeclineForm(FlaskForm):
    category = RadioField(
        "Why are you declining this referral?", widget=Radios(), validate_choice=False
    )
    reason = TextAreaField(
        "Tell the desk more",
        description="The desk reads this to decide where the referral should go instead",
        widget=GovTextArea(),
    )


class DecisionForm(FlaskForm):
    outcome = RadioField("Outcome", widget=Radios(), validate_choice=False)
    note = TextAreaField("Note", description="Optional", widget=GovTextArea())


class MessageForm(FlaskForm):
    body = TextAreaField("Ask the desk for more information", widget=GovTextArea())


@bp.route("/")
@requires(Permission.PARTNER_INBOX)
def inbox() -> str:
    agency = db.session.get(Agency, current_user.agency_id) if current_user.agency_id else None
    if agency is None:
        abort(403)
    tab = _tab()
    now = clock.now()
    page = referral_queries.inbox(
        agency.id,
        tab,
        now,
        older_than=Cursor.decode(request.args.get("older")),
        page_size=runtime().settings.page_size,
    )
    rows = partner_views.rows(page.items)
    partner_views.audit_shown(actor(), rows, "referral.inbox_listed")
    return render_template(
        "portal/inbox.html",
        agency=agency,
        page=page,
        rows=rows,
        tab=tab,
        tabs=list(referral_queries.InboxTab),
        counts=referral_queries.tab_counts(agency.id, now),
        now=now,
    )


@bp.route("/export.<any(csv, xlsx):fmt>")
@requires(Permission.PARTNER_INBOX)
def export(fmt: str) -> Response:
    """The inbox tab as CSV or XLSX: the agency's own rows only, as the inbox shows them."""
    agency = db.session.get(Agency, current_user.agency_id) if current_user.agency_id else None
    if agency is None:
        abort(403)
    tab = _tab()
    now = clock.now()
    agency_id = agency.id  # the rows are read after this request's session has ended

    def rows() -> Iterator[Row]:
        fetch = partial(referral_queries.inbox, agency_id, tab, now, page_size=exports.BATCH)
        for items in exports.pages(lambda cursor: fetch(older_than=cursor)):
            for row in partner_views.rows(items):
                r = row.referral
                yield (
                    ("referral", r.id),
                    [
                        row.who,
                        r.reference,
                        r.sent_at,
                        r.incident.police_reference,
                        r.clock_due_at,
                        "Paused" if r.paused_at else "",
                        r.state.label,
                    ],
                )

    header = ["Child", "Referral", "Sent", "Police reference", "Due", "Paused", "State"]
    count = referral_queries.inbox_count(agency.id, tab, now)
    filters = {"agency": agency.code, "tab": tab.value}
    return download(fmt, "partner_inbox", filters, count, header, rows())


def _tab() -> referral_queries.InboxTab:
    tab_value = request.args.get("tab", "new")
    return next(
        (t for t in referral_queries.InboxTab if t.value == tab_value),
        referral_queries.InboxTab.NEW,
    )


def _page(referral_id: int, *, status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    try:
        referral, disclosure = lifecycle.open_for_partner(actor(), referral_id)
    except NotFound:
        abort(404)
    kind = profile(referral.agency.kind)
    decision = forms.get("decision") or DecisionForm()
    decision.outcome.choices = options(list(kind.outcomes))
    decline = forms.get("decline") or DeclineForm(formdata=None)
    decline.category.choices = options(list(kind.decline_reasons))
    return render_template(
        "portal/referral.html",
        referral=referral,
        d=disclosure,
        now=clock.now(),
        decline=decline,
        decision=decision,
        message=forms.get("message") or MessageForm(formdata=None),
        thread=lifecycle.thread(referral),
        history=lifecycle.partner_history(referral),
        amended=disclosure_service.amendments_seen(referral),
        together=len(lifecycle.of_incident_for_partner(actor(), referral.incident_id)),
        outcome=outcome_label(referral.agency.kind, referral.decision),
        errors=[e for f in forms.values() for e in error_list(f)],
    ), status


@bp.route("/referrals/<id:referral_id>")
@requires(Permission.PARTNER_INBOX)
def referral(referral_id: int) -> tuple[str, int]:
    return _page(referral_id)


def _act(
    referral_id: int, name: str, form: FlaskForm | None, action: Callable[[], str]
) -> Response | tuple[str, int]:
    """Run one of the partner's actions from the referral's page (see :func:`perform`)."""
    return perform(
        action,
        form=form,
        show_again=lambda: _page(referral_id, status=400, **({name: form} if form else {})),
        back=url_for("portal.referral", referral_id=referral_id),
    )


@bp.route("/referrals/<id:referral_id>/acknowledge", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def acknowledge(referral_id: int) -> Response | tuple[str, int]:
    def run() -> str:
        referral = lifecycle.acknowledge(actor(), referral_id)
        when = clock.shown(referral.acknowledged_at)
        return f"Referral acknowledged {when}, {_timeliness(referral)}."

    return _act(referral_id, "acknowledge", None, run)


@bp.route("/referrals/<id:referral_id>/decline", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def decline(referral_id: int) -> Response | tuple[str, int]:
    form = DeclineForm()

    def run() -> str:
        referral = lifecycle.decline(
            actor(), referral_id, form.category.data or "", form.reason.data or ""
        )
        return (
            f"Referral declined {clock.shown(referral.declined_at)}. The desk will see your reason."
        )

    return _act(referral_id, "decline", form, run)


@bp.route("/referrals/<id:referral_id>/decision", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def decide(referral_id: int) -> Response | tuple[str, int]:
    form = DecisionForm()

    def run() -> str:
        referral = lifecycle.decide(
            actor(), referral_id, form.outcome.data or "", form.note.data or ""
        )
        return f"Decision recorded {clock.shown(referral.decided_at)}."

    return _act(referral_id, "decision", form, run)


@bp.route("/referrals/<id:referral_id>/messages", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def message(referral_id: int) -> Response | tuple[str, int]:
    form = MessageForm()

    def run() -> str:
        who = actor()
        found = lifecycle.for_partner(who, referral_id)
        lifecycle.post_message(who, found, form.body.data or "", from_desk=False)
        return "Your question was sent to the desk."

    return _act(referral_id, "message", form, run)


def _timeliness(referral: Referral) -> str:
    on_time = referral.acknowledged_on_time()
    return "on time" if on_time else "after the due time" if on_time is False else ""


@bp.route("/incidents/<id:incident_id>")
@requires(Permission.PARTNER_INBOX)
def incident(incident_id: int) -> tuple[str, int]:
    return _incident_page(incident_id)


def _incident_page(
    incident_id: int, *, errors: dict[str, str] | None = None, posted: dict[str, str] | None = None
) -> tuple[str, int]:
    """Every referral of one incident sent to the partner's agency, together: each opening a
    disclosure (audited), with one action to acknowledge them all and one form to decide them."""
    who = actor()
    try:
        opened = lifecycle.open_incident_for_partner(who, incident_id)
    except NotFound:
        abort(404)
    problems = errors or {}
    return render_template(
        "portal/incident.html",
        opened=opened,
        incident_id=incident_id,
        now=clock.now(),
        outcomes=list(profile(opened[0][0].agency.kind).outcomes),
        problems=problems,
        posted=posted or {},
        errors=[{"text": m, "href": f"#{k}"} for k, m in problems.items()],
    ), 400 if problems else 200


@bp.route("/incidents/<id:incident_id>/acknowledge", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def acknowledge_all(incident_id: int) -> Response:
    try:
        done = lifecycle.acknowledge_all(actor(), incident_id)
    except NotFound:
        abort(404)
    if done:
        flash(f"{_many(len(done), 'referral')} acknowledged {clock.shown(clock.now())}.")
    else:
        flash("Nothing was left to acknowledge.", "refused")
    return redirect(url_for("portal.incident", incident_id=incident_id))


@bp.route("/incidents/<id:incident_id>/decisions", methods=["POST"])
@requires(Permission.PARTNER_INBOX)
def decide_all(incident_id: int) -> Response | tuple[str, int]:
    """Decisions on several of the incident's referrals at once (each acknowledged on the way
    if it was not): two children to one front door, decided in one submission."""
    choices: dict[int, tuple[str, str]] = {}
    for key in request.form:
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "decision" and parts[2] == "outcome":
            rid = bounded_int(parts[1])
            if rid is not None:
                note = request.form.get(f"decision-{rid}-note", "")
                choices[rid] = (request.form.get(key, ""), note)
    try:
        done = lifecycle.decide_many(actor(), incident_id, choices)
    except NotFound:
        abort(404)
    except InvalidInput as invalid:
        return _incident_page(incident_id, errors=invalid.errors, posted=dict(request.form))
    except DomainError as refused:
        flash(str(refused), "refused")
        return redirect(url_for("portal.incident", incident_id=incident_id))
    flash(f"{_many(len(done), 'decision')} recorded {clock.shown(clock.now())}.")
    return redirect(url_for("portal.incident", incident_id=incident_id))


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}{'' if count == 1 else 's'}"
