"""``/api/v1``: police intake and partner systems. Every call goes through the same services,
transitions, disclosure function and audit events as the pages; the client is the actor."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from flask import abort, g, request
from flask_smorest import Blueprint

from referrals.api import schemas
from referrals.api.auth import authenticate
from referrals.api.problems import from_service, problem
from referrals.intake_json import parse_notification
from referrals.models.api_client import ApiClient, ApiScope
from referrals.models.incident import Incident
from referrals.models.referral import Referral, ReferralState, id_from_reference
from referrals.profiles import profile
from referrals.queries import referrals as referral_queries
from referrals.queries.paging import Cursor
from referrals.security.access import token
from referrals.services import api_clients, intake, partner_views, webhooks
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from referrals.services.errors import InvalidInput, NotFound
from referrals.services.transitions import Refused

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Police intake and partner case systems. Send `Authorization: Bearer <token>`.",
)

bp.before_request(authenticate)

PROBLEMS = {
    400: "The request is not well formed (a NUL character, or a body that is not JSON)",
    401: "No token, or a token that is unknown, revoked or expired",
    403: "The token does not hold the scope this call needs",
    404: "No such record, or not your agency's (the two are not told apart)",
    409: "The referral is not where this step can start (the detail says who acted and when)",
    413: "The body is larger than 1 MB",
    422: "The input is not valid: `errors` lists the JSON path of every problem",
    429: "Too many calls with this token: wait `Retry-After` seconds",
}
EVERY_CALL = (400, 401, 403, 429)  # what any operation may answer, besides its own


def _documented(*extra: int) -> Any:
    """Every answer an operation can give besides its success, each a problem document."""

    def decorate(view: Any) -> Any:
        for status in sorted({*EVERY_CALL, *extra}):
            view = bp.alt_response(
                status,
                schema=schemas.Problem,
                description=PROBLEMS[status],
                content_type="application/problem+json",
            )(view)
        return view

    return decorate


def client() -> ApiClient:
    found: ApiClient = g.api_client
    return found


def actor() -> Actor:
    return api_clients.actor_for(client())


def _key(notification_id: str) -> str:
    digest = hashlib.sha256(notification_id.encode()).hexdigest()[:48]
    return f"api:{client().id}:{digest}"


def _notification(incident: Incident, notification_id: str) -> dict[str, Any]:
    return {
        "id": notification_id,
        "status": incident.status.value,
        "status_label": incident.status.label,
        "received_at": incident.received_at,
        "referrals": [
            {
                "number": r.reference,
                "agency": r.agency.name,
                "agency_kind": r.agency.kind.value,
                "state": r.state.value,
                "due_at": r.clock_due_at,
                "sent_at": r.sent_at,
            }
            for r in referral_queries.for_incident(incident.id)
        ],
    }


@bp.route("/notifications", methods=["POST"])
@bp.arguments(schemas.NotificationIn, description="A notification, as `intake import` reads it")
@bp.response(201, schemas.NotificationOut, description="Logged: the incident's routing state")
@bp.alt_response(200, schema=schemas.NotificationOut, description="Sent before with this id")
@_documented(413, 422)
@token(ApiScope.NOTIFICATIONS_WRITE)
def send_notification(body: dict[str, Any]) -> Any:
    """Send a notification of an incident (police intake)"""
    # The schema has checked the shape; the body is read by the same reader as `intake import`,
    # so the two ways in cannot drift (its type errors, should they ever differ, are answered).
    data, errors = parse_notification(request.get_json())
    key = _key(body["id"])
    existing = intake.find_by_submission(key)
    if existing is not None:
        return _notification(existing, body["id"]), 200
    if errors:
        return problem(422, "The notification is not valid", errors=from_service(errors))
    try:
        incident, _made = intake.log_incident(
            actor(), replace(data, submission_key=key, source="api")
        )
    except InvalidInput as invalid:
        return problem(422, "The notification is not valid", errors=from_service(invalid.errors))
    return _notification(incident, body["id"]), 201


@bp.route("/notifications/<string:notification_id>")
@bp.response(200, schemas.NotificationOut)
@_documented(404)
@token(ApiScope.NOTIFICATIONS_READ)
def notification(notification_id: str) -> Any:
    """The routing state of a notification this client sent: no identities"""
    incident = intake.find_by_submission(_key(notification_id))
    if incident is None:
        abort(404)
    return _notification(incident, notification_id)


def _summary(referral: Referral, who: str) -> dict[str, Any]:
    return {
        "number": referral.reference,
        "who": who,
        "state": referral.state.value,
        "sent_at": referral.sent_at,
        "updated_at": referral.updated_at,
        "due_at": referral.clock_due_at,
        "paused": referral.paused_at is not None,
        "acknowledged_at": referral.acknowledged_at,
        "decided_at": referral.decided_at,
        "decision": referral.decision,
        "declined_at": referral.declined_at,
        "link": webhooks.referral_url(referral.reference),
    }


@bp.route("/referrals")
@bp.arguments(schemas.ReferralListQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.ReferralPage)
@_documented(422)
@token(ApiScope.REFERRALS_READ)
def referrals(
    limit: int, state: list[str] | None = None, updated_since: Any = None, after: str | None = None
) -> Any:
    """The agency's referrals, newest sent first, a page at a time"""
    older = Cursor.decode(after) if after else None
    if after and older is None:
        return problem(422, errors=[{"path": "/after", "message": "Not a cursor from this API"}])
    page = referral_queries.for_api(
        client().agency_id or 0,
        states=[ReferralState(s) for s in state or []],
        updated_since=updated_since,
        older_than=older,
        page_size=limit,
    )
    rows = partner_views.rows(page.items)
    partner_views.audit_shown(actor(), rows, "referral.inbox_listed")
    return {
        "items": [_summary(row.referral, row.who) for row in rows],
        "next": page.older.encode() if page.older else None,
    }


def _referral_id(number: str) -> int:
    found = id_from_reference(number)
    if found is None:
        abort(404)
    return found


def _person(person: Any) -> dict[str, Any]:
    return {k: getattr(person, k) for k in schemas.PersonOut().fields}


def _opened(referral_id: int) -> dict[str, Any]:
    referral, d = lifecycle.open_for_partner(actor(), referral_id)
    kind = profile(referral.agency.kind)
    out = _summary(referral, d.subject.name or d.subject.pseudonym)
    out.update(
        agency_kind=referral.agency.kind.value,
        subject=_person(d.subject),
        police_reference=d.reference,
        occurred_at=d.occurred_at,
        received_at=d.received_at,
        place=d.place,
        present=d.present,
        present_where=d.present_where,
        voice=d.voice,
        spoken_to=d.spoken_to,
        school=d.school,
        known_to_social_care=d.known_to_social_care,
        risk=d.risk,
        summary=d.summary,
        household=[_person(p) for p in d.household] if d.household is not None else None,
        siblings=[_person(p) for p in d.siblings] if d.siblings is not None else None,
        outcomes=[{"value": v, "label": label} for v, label in kind.outcomes],
        decline_reasons=[{"value": v, "label": label} for v, label in kind.decline_reasons],
        messages=[
            {"id": m.id, "at": m.at, "from_desk": m.from_desk, "body": body}
            for m, body in lifecycle.thread(referral)
        ],
    )
    return {k: v for k, v in out.items() if v is not None or k in _ALWAYS}


_ALWAYS = {"due_at", "acknowledged_at", "decided_at", "decision", "declined_at"}


@bp.route("/referrals/<string:number>")
@bp.response(200, schemas.ReferralOut)
@_documented(404)
@token(ApiScope.REFERRALS_READ)
def referral(number: str) -> Any:
    """One referral, exactly as the portal shows it to this agency's kind (a disclosure, audited)"""
    try:
        return _opened(_referral_id(number))
    except NotFound:
        abort(404)


def _step(number: str, run: Any) -> Any:
    referral_id = _referral_id(number)
    try:
        run(referral_id)
    except NotFound:
        abort(404)
    except Refused as refused:
        return problem(409, str(refused))
    except InvalidInput as invalid:
        return problem(422, "The input is not valid", errors=from_service(invalid.errors))
    return _opened(referral_id)


@bp.route("/referrals/<string:number>/acknowledge", methods=["POST"])
@bp.response(200, schemas.ReferralOut, description="Acknowledged: the referral as it is now")
@_documented(404, 409)
@token(ApiScope.REFERRALS_WRITE)
def acknowledge(number: str) -> Any:
    """Acknowledge a referral"""
    return _step(number, lambda rid: lifecycle.acknowledge(actor(), rid))


@bp.route("/referrals/<string:number>/decline", methods=["POST"])
@bp.arguments(schemas.DeclineIn)
@bp.response(200, schemas.ReferralOut, description="Declined: the desk sees the reason")
@_documented(404, 409, 413, 422)
@token(ApiScope.REFERRALS_WRITE)
def decline(body: dict[str, Any], number: str) -> Any:
    """Decline a referral, with one of the kind's reasons and words for the desk"""
    return _step(
        number, lambda rid: lifecycle.decline(actor(), rid, body["category"], body["reason"])
    )


@bp.route("/referrals/<string:number>/decision", methods=["POST"])
@bp.arguments(schemas.DecisionIn)
@bp.response(200, schemas.ReferralOut, description="The decision is recorded")
@_documented(404, 409, 413, 422)
@token(ApiScope.REFERRALS_WRITE)
def decide(body: dict[str, Any], number: str) -> Any:
    """Record the decision on next steps (acknowledging on the way if needed)"""
    return _step(number, lambda rid: lifecycle.decide(actor(), rid, body["outcome"], body["note"]))


@bp.route("/referrals/<string:number>/messages", methods=["POST"])
@bp.arguments(schemas.MessageIn)
@bp.response(201, schemas.ReferralOut, description="The question is on the referral's thread")
@_documented(404, 409, 413, 422)
@token(ApiScope.REFERRALS_WRITE)
def message(body: dict[str, Any], number: str) -> Any:
    """Ask the desk for more information"""

    def run(referral_id: int) -> None:
        who = actor()
        lifecycle.post_message(
            who, lifecycle.for_partner(who, referral_id), body["body"], from_desk=False
        )

    answer = _step(number, run)
    return (answer, 201) if isinstance(answer, dict) else answer


@bp.route("/webhook", methods=["PUT"])
@bp.arguments(schemas.WebhookIn)
@bp.response(200, schemas.WebhookOut, description="Registered: keep the secret, shown once")
@_documented(413, 422)
@token(ApiScope.REFERRALS_WRITE)
def set_webhook(body: dict[str, Any]) -> Any:
    """Register (or replace) the URL that receives this agency's events"""
    try:
        secret = api_clients.set_webhook(client(), body["url"])
    except InvalidInput as invalid:
        return problem(422, "The URL is not accepted", errors=from_service(invalid.errors))
    return {"url": body["url"], "secret": secret}


@bp.route("/webhook", methods=["DELETE"])
@bp.response(204, description="No more events are sent")
@_documented()
@token(ApiScope.REFERRALS_WRITE)
def remove_webhook() -> Any:
    """Stop sending events"""
    api_clients.clear_webhook(client())
    return None
