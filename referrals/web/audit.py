"""Auditors: browse the trail by record, actor and date; check the chain. No identities here."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from referrals import clock
from referrals.db import text_limit
from referrals.models.audit import AuditEvent, AuditKind
from referrals.queries import access
from referrals.queries import audit as audit_queries
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import access_reports, audit_anchor
from referrals.web.downloads import download
from referrals.web.requests import actor, enum_arg, int_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _text_arg(name: str, column: object) -> str | None:
    """A text filter, no longer than the column it is compared with."""
    return request.args.get(name, "").strip()[: text_limit(column)] or None


def _date_arg(name: str, errors: dict[str, str]) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "Enter the date as YYYY-MM-DD, like 2026-11-21"
        return None


@bp.route("/")
@requires(Permission.VIEW_AUDIT)
def events() -> tuple[str, int] | str:
    errors: dict[str, str] = {}
    filters = audit_queries.AuditFilters(
        record_type=_text_arg("record_type", AuditEvent.record_type),
        record_id=_text_arg("record_id", AuditEvent.record_id),
        actor=_text_arg("actor", AuditEvent.actor_label),
        kind=enum_arg("kind", AuditKind),
        date_from=_date_arg("date_from", errors),
        date_to=_date_arg("date_to", errors),
    )
    before = int_arg("before")
    rows = audit_queries.events(filters, before_seq=before, page_size=runtime().settings.page_size)
    more = len(rows) > runtime().settings.page_size
    rows = rows[: runtime().settings.page_size]
    page = render_template(
        "audit/events.html",
        events=rows,
        filters=filters,
        kinds=list(AuditKind),
        older=rows[-1].seq if more and rows else None,
        errors=errors,
        args={k: v for k, v in request.args.items() if k != "before"},
    )
    return (page, 400) if errors else page


@bp.route("/verify")
@requires(Permission.VIEW_AUDIT)
def verify() -> str:
    return render_template("audit/verify.html", result=audit_anchor.verify())


# How the access reports name an action; any other is shown as recorded.
ACTIONS = {
    "incident.viewed": "Opened the incident",
    "incident.outcomes_viewed": "Read the partners' outcomes",
    "incident.outcomes_printed": "Printed the partners' outcomes",
    "identity.revealed": "Revealed the identity",
    "location.revealed": "Revealed the address",
    "referral.viewed": "Read the referral",
    "referral.opened": "Opened the referral",
    "referral.sent": "Sent the referral",
    "referral.escalated": "Escalated the referral",
    "referral.notice_resent": "Re-sent the notice",
    "referral.message": "Answered the partner",
    "referral.inbox_listed": "Listed with names in an inbox",
    "referral.search_results": "Listed with names in search results",
    "incident.disposed": "Erased at a retention review",
    "access.who_saw": "Ran 'who saw this record'",
    "access.user_saw": "Ran 'what did this user see'",
}
BY = {"person": "Pseudonym", "incident": "Police reference", "referral": "Referral number"}
ACCESS_HEADER = [
    "Event",
    "When (London)",
    "Who",
    "Agency",
    "Kind",
    "What",
    "Record",
    "Other records",
    "Recipients",
    "Reason",
]


def action_label(action: str) -> str:
    if action.startswith("export."):
        return f"Exported: {action.removeprefix('export.').replace('_', ' ')}"
    return ACTIONS.get(action, action)


def _access_cells(row: access.AccessRow) -> list[object]:
    e = row.event
    return [
        e.seq,
        e.occurred_at,
        e.actor_label,
        row.agency,
        e.kind.value,
        action_label(e.action),
        f"{e.record_type} {e.record_id}",
        row.touched,
        e.recipients,
        e.reason,
    ]


def _subject(errors: dict[str, str]) -> access.Subject | None:
    """The record asked about, or None with the reason in ``errors`` (nothing asked: no error)."""
    by = request.args.get("by", "")
    text = request.args.get("record", "").strip()[:40]
    if not by and not text:
        return None
    if by not in BY:
        errors["by"] = "Choose what you are looking for: a person, an incident or a referral"
        return None
    if not text:
        errors["record"] = f"Enter the {BY[by].lower()}"
        return None
    found = {"person": access.person, "incident": access.incident, "referral": access.referral}[by](
        text
    )
    if found is None:
        errors["record"] = f"No record has the {BY[by].lower()} {text}"
    return found


@bp.route("/access")
@requires(Permission.VIEW_AUDIT)
def who_saw() -> tuple[str, int] | str:
    """Who saw a record: every consultation, disclosure, reveal and export that touched it."""
    errors: dict[str, str] = {}
    subject = _subject(errors)
    page = None
    if subject is not None:
        page = access_reports.who_saw(
            actor(), subject, before=int_arg("before"), page_size=runtime().settings.page_size
        )
    html = render_template(
        "audit/who_saw.html",
        subject=subject,
        page=page,
        errors=errors,
        by=BY,
        args={k: v for k, v in request.args.items() if k in ("by", "record")},
        action_label=action_label,
    )
    return (html, 400) if errors else html


@bp.route("/access/export.<any(csv, xlsx):fmt>")
@requires(Permission.VIEW_AUDIT)
def export_who_saw(fmt: str) -> Response | tuple[str, int]:
    errors: dict[str, str] = {}
    subject = _subject(errors)
    if subject is None:
        errors.setdefault("record", "Choose the record whose access report to download")
        return render_template(
            "audit/who_saw.html", subject=None, page=None, errors=errors, by=BY, args={}
        ), 400
    total = access.seen_count(subject)
    rows = (
        (None, _access_cells(row)) for row in access.every_page(partial(access.who_saw, subject))
    )
    filters = {"by": subject.kind, "record": subject.label}
    return download(fmt, "access_who_saw", filters, total, ACCESS_HEADER, rows)


def _user_period(errors: dict[str, str]) -> access.UserPeriod | None:
    email = request.args.get("email", "").strip()[:254]
    first = _date_arg("first", errors)
    last = _date_arg("last", errors)
    if not email:
        if request.args:
            errors["email"] = "Enter the e-mail address of the user"
        return None
    user = access.user_by_email(email)
    if user is None:
        errors["email"] = f"No user has the e-mail address {email}"
    today = clock.london_today()
    last = last or today
    first = first or last - timedelta(days=29)
    if first > last and "first" not in errors:
        errors["last"] = "The last day must be the same as or after the first day"
    if user is None or errors:
        return None
    return access.UserPeriod(user.id, user.email, first, last)


@bp.route("/user")
@requires(Permission.VIEW_AUDIT)
def user_saw() -> tuple[str, int] | str:
    """What one user saw in a period (the last 30 days unless asked)."""
    errors: dict[str, str] = {}
    asked = _user_period(errors)
    page = None
    if asked is not None:
        page = access_reports.what_user_saw(
            actor(), asked, before=int_arg("before"), page_size=runtime().settings.page_size
        )
    html = render_template(
        "audit/user_saw.html",
        asked=asked,
        page=page,
        errors=errors,
        args={k: v for k, v in request.args.items() if k in ("email", "first", "last")},
        action_label=action_label,
    )
    return (html, 400) if errors else html


@bp.route("/user/export.<any(csv, xlsx):fmt>")
@requires(Permission.VIEW_AUDIT)
def export_user_saw(fmt: str) -> Response | tuple[str, int]:
    errors: dict[str, str] = {}
    asked = _user_period(errors)
    if asked is None:
        errors.setdefault("email", "Enter the e-mail address of the user")
        return render_template(
            "audit/user_saw.html", asked=None, page=None, errors=errors, args={}
        ), 400
    total = access.user_count(asked)
    rows = (
        (None, _access_cells(row))
        for row in access.every_page(partial(access.what_user_saw, asked))
    )
    filters = {
        "email": asked.email,
        "first": asked.first.isoformat(),
        "last": asked.last.isoformat(),
    }
    return download(fmt, "access_user_saw", filters, total, ACCESS_HEADER, rows)
