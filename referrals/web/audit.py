"""Auditors: browse the trail by record, actor and date; check the chain. No identities here."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from referrals.db import text_limit
from referrals.models.audit import AuditEvent, AuditKind
from referrals.queries import audit as audit_queries
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import audit_anchor
from referrals.web.requests import int_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50


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
    kind = request.args.get("kind", "")
    filters = audit_queries.AuditFilters(
        record_type=_text_arg("record_type", AuditEvent.record_type),
        record_id=_text_arg("record_id", AuditEvent.record_id),
        actor=_text_arg("actor", AuditEvent.actor_label),
        kind=AuditKind(kind) if kind in {k.value for k in AuditKind} else None,
        date_from=_date_arg("date_from", errors),
        date_to=_date_arg("date_to", errors),
    )
    before = int_arg("before")
    rows = audit_queries.events(filters, before_seq=before, page_size=PAGE_SIZE)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
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
