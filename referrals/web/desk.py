"""The desk: the queue, logging an incident, the incident page and reveals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from referrals import clock
from referrals.models.incident import IncidentStatus, RiskGrade
from referrals.queries import incidents as incident_queries
from referrals.queries import referrals as referral_queries
from referrals.queries.paging import Cursor
from referrals.reference import BOROUGHS, borough_choices, borough_name
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import casefile, exports, intake, reveal
from referrals.services.errors import InvalidInput, NotFound
from referrals.web.downloads import Row, download
from referrals.web.forms import attach_errors, error_list
from referrals.web.intake_form import (
    MAX_PEOPLE,
    IncidentForm,
    blank_entry,
    new_submission_key,
    to_input,
    without_entry,
)
from referrals.web.requests import actor, enum_arg

bp = Blueprint("desk", __name__, url_prefix="/desk")


class RevealForm(FlaskForm):
    reason = TextAreaField(
        "Why do you need to see this?",
        description="Your reason is recorded in the audit trail with your name and the time.",
        widget=GovTextArea(),
    )


def _queue_filters() -> incident_queries.QueueFilters:
    borough = request.args.get("borough", "")
    return incident_queries.QueueFilters(
        borough=borough if borough in BOROUGHS else None,
        risk=enum_arg("risk", RiskGrade),
        status=enum_arg("status", IncidentStatus),
        triage=enum_arg("triage", incident_queries.TriageFilter),
        attention=enum_arg("attention", incident_queries.Attention),
    )


@bp.route("/")
@requires(Permission.DESK_QUEUE)
def queue() -> str:
    filters = _queue_filters()
    now = clock.now()
    page = incident_queries.queue(
        filters,
        older_than=Cursor.decode(request.args.get("older")),
        newer_than=Cursor.decode(request.args.get("newer")),
        page_size=runtime().settings.page_size,
        now=now,
    )
    return render_template(
        "desk/queue.html",
        page=page,
        markers=incident_queries.markers([i.id for i in page.items], now),
        filters=filters,
        now=now,
        boroughs=borough_choices(),
        grades=list(RiskGrade),
        statuses=list(IncidentStatus),
        triage_filters=list(incident_queries.TriageFilter),
        attentions=list(incident_queries.Attention),
    )


@bp.route("/export.<any(csv, xlsx):fmt>")
@requires(Permission.DESK_QUEUE)
def export_queue(fmt: str) -> Response:
    """The queue under its filters as CSV or XLSX: what the page shows, every page of it."""
    filters = _queue_filters()
    now = clock.now()

    def rows() -> Iterator[Row]:
        fetch = partial(incident_queries.queue, filters, page_size=exports.BATCH, now=now)
        for items in exports.pages(lambda cursor: fetch(older_than=cursor)):
            found = incident_queries.markers([i.id for i in items], now)
            for i in items:
                m = found.get(i.id)
                yield (
                    ("incident", i.id),
                    [
                        i.police_reference,
                        i.received_at,
                        borough_name(i.borough_code),
                        i.child_count,
                        i.risk_grade.label,
                        i.status.label,
                        i.routed_at or f"Triage by {clock.shown(i.triage_due_at)}",
                        m.earliest_due if m else None,
                        m.referrals if m else 0,
                        m.answered if m else 0,
                        m.overdue if m else 0,
                        m.due_soon if m else 0,
                        m.questions if m else 0,
                        m.declines if m else 0,
                    ],
                )

    header = [
        "Police reference",
        "Received",
        "Borough",
        "Children",
        "Risk",
        "Status",
        "Sent",
        "Next due",
        "Referrals",
        "Answered",
        "Overdue",
        "Due soon",
        "Questions",
        "Declines",
    ]
    count = incident_queries.queue_count(filters, now)
    return download(fmt, "desk_queue", filters.args(), count, header, rows())


@bp.route("/before-school")
@requires(Permission.DESK_QUEUE)
def before_school() -> str:
    """School referrals due at the start of a school day that the school has not yet opened,
    with the school's number, so the desk can ring before the child arrives."""
    day = _day_arg("day") or school_morning(clock.now())
    starts, ends = clock.day_bounds(day, day)
    page = referral_queries.before_school(
        starts,
        ends,
        after=Cursor.decode(request.args.get("after")),
        page_size=runtime().settings.page_size,
    )
    return render_template(
        "desk/before_school.html",
        page=page,
        day=day,
        now=clock.now(),
        earlier=day - timedelta(days=1),
        later=day + timedelta(days=1),
    )


def school_morning(now: datetime) -> date:
    """The school morning the desk is preparing for: today until noon, then the next weekday."""
    local = clock.to_london(now)
    day = local.date() if local.hour < 12 else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _day_arg(name: str) -> date | None:
    try:
        day = date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


@bp.route("/incidents/new", methods=["GET", "POST"])
@requires(Permission.LOG_INCIDENT)
def new_incident() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        form = IncidentForm(submission_key=new_submission_key())
        return _intake_page(form)
    action = request.form.get("action", "save")
    if action != "save":
        return _change_household(action)
    form = IncidentForm()
    form.validate()  # type checks only: dates that are not dates; CSRF was checked globally
    data, parse_errors = to_input(form)
    if form.errors or parse_errors:
        domain_errors, _ = intake.validate(data)
        unplaced = attach_errors(form, {**parse_errors, **domain_errors}, IncidentForm.ALIASES)
        return _invalid(form, unplaced)
    try:
        incident, created = intake.log_incident(actor(), data)
    except InvalidInput as invalid:
        unplaced = attach_errors(form, invalid.errors, IncidentForm.ALIASES)
        return _invalid(form, unplaced)
    if created:
        flash(
            f"Incident {incident.police_reference} logged with {incident.child_count} "
            f"{'child' if incident.child_count == 1 else 'children'}."
        )
    else:
        flash(
            f"This form was already submitted: incident {incident.police_reference} "
            "was logged once, and no copy was made."
        )
    return redirect(url_for("desk.incident", incident_id=incident.id))


def _invalid(form: IncidentForm, unplaced: dict[str, str]) -> tuple[str, int]:
    reused = (
        intake.reference_in_use(form.police_reference.data or "")
        if form.duplicate_reason.errors
        else None
    )
    return _intake_page(
        form, errors=error_list(form, unplaced), unplaced=unplaced, reused=reused
    ), 400


def _change_household(action: str) -> str | tuple[str, int]:
    """Add or remove an adult or a child, keeping everything typed, without JavaScript."""
    verb, _, rest = action.partition("-")
    kind, _, index_text = rest.partition("-")
    if verb not in {"add", "remove"} or kind not in {"adult", "child"}:
        abort(400)
    list_name = "adults" if kind == "adult" else "children"
    formdata: MultiDict[str, str] = MultiDict(request.form)
    focus = ""
    if verb == "remove":
        if not index_text.isdigit():
            abort(400)
        formdata = without_entry(request.form, list_name, int(index_text))
    form = IncidentForm(formdata=formdata)
    entries = getattr(form, list_name)
    if verb == "add":
        if len(entries.entries) >= MAX_PEOPLE:
            flash(f"An incident can hold at most {MAX_PEOPLE} {list_name}.")
        else:
            entries.append_entry()
            focus = f"{list_name}-{len(entries.entries) - 1}"
    elif not entries.entries:
        entries.append_entry()
    return _intake_page(form, focus=focus)


def _intake_page(form: IncidentForm, **context: object) -> str:
    context.setdefault("errors", [])
    return render_template(
        "desk/new_incident.html",
        form=form,
        blank_entry=blank_entry,
        max_people=MAX_PEOPLE,
        **context,
    )


@bp.route("/incidents/<id:incident_id>")
@requires(Permission.VIEW_INCIDENT)
def incident(incident_id: int) -> tuple[str, int]:
    return incident_page(incident_id)


def incident_page(
    incident_id: int,
    *,
    send_errors: dict[str, str] | None = None,
    waivers: dict[int, str] | None = None,
) -> tuple[str, int]:
    """The incident with its people, and either its proposed routing or its referrals."""
    try:
        view = casefile.open_incident(actor(), incident_id)
    except NotFound:
        abort(404)
    errors = [{"text": m, "href": f"#{k}"} for k, m in (send_errors or {}).items()]
    return render_template(
        "desk/incident.html",
        view=view,
        incident=view.incident,
        now=clock.now(),
        send_errors=send_errors or {},
        waivers=waivers or {},
        errors=errors,
    ), 400 if errors else 200


@bp.route("/incidents/<id:incident_id>/people/<id:link_id>/reveal", methods=["GET", "POST"])
@requires(Permission.REVEAL_IDENTITY)
def reveal_person(incident_id: int, link_id: int) -> str | tuple[str, int]:
    form = RevealForm()
    subject = incident_queries.person_on_incident(incident_id, link_id)
    if subject is None:
        abort(404)
    if request.method == "POST":
        try:
            revealed = reveal.reveal_person(actor(), incident_id, link_id, form.reason.data or "")
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        except NotFound:
            abort(404)
        else:
            return render_template(
                "desk/revealed_person.html", person=revealed, incident_id=incident_id, link=subject
            )
    status = 400 if form.reason.errors else 200
    return render_template(
        "desk/reveal.html",
        form=form,
        errors=error_list(form),
        subject_label=subject.person.pseudonym,
        incident_id=incident_id,
    ), status


@bp.route("/incidents/<id:incident_id>/location/reveal", methods=["GET", "POST"])
@requires(Permission.REVEAL_IDENTITY)
def reveal_location(incident_id: int) -> str | tuple[str, int]:
    form = RevealForm()
    incident = incident_queries.incident_with_people(incident_id)
    if incident is None:
        abort(404)
    if request.method == "POST":
        try:
            location = reveal.reveal_location(actor(), incident_id, form.reason.data or "")
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        else:
            return render_template(
                "desk/revealed_location.html", location=location, incident=incident
            )
    status = 400 if form.reason.errors else 200
    return render_template(
        "desk/reveal.html",
        form=form,
        errors=error_list(form),
        subject_label=f"the location of incident {incident.police_reference}",
        incident_id=incident_id,
    ), status
