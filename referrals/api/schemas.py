"""The API's typed request and response schemas (marshmallow). The OpenAPI document is
generated from these by flask-smorest; domain rules stay in the services, which answer in the
same 422 shape with the field path of every problem."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from referrals.models.incident import ADULT_ROLES, IncidentStatus, RiskGrade
from referrals.models.referral import ReferralState

GRADES = [g.value for g in RiskGrade]


class _Strict(Schema):
    """Unknown fields are refused (422), never silently dropped."""


def _text(description: str, **kw: object) -> fields.String:
    return fields.String(allow_none=True, metadata={"description": description}, **kw)  # type: ignore[arg-type]


def _flag(description: str) -> fields.Boolean:
    return fields.Boolean(allow_none=True, metadata={"description": description})


class RiskIn(_Strict):
    actuarial = fields.String(
        required=True, validate=validate.OneOf(GRADES), metadata={"description": "DASH grade"}
    )
    judgement = fields.String(
        allow_none=True,
        validate=validate.OneOf(GRADES),
        metadata={"description": "A raise by professional judgement, with its rationale"},
    )
    rationale = _text("Why the grade was raised")


class AdultIn(_Strict):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in ADULT_ROLES]))
    given_name = _text("Given name")
    family_name = _text("Family name")
    date_of_birth = fields.Date(allow_none=True)
    address = _text("Address")
    phone = _text("Telephone")


class ChildIn(_Strict):
    given_name = _text("Given name")
    family_name = _text("Family name")
    date_of_birth = fields.Date(allow_none=True)
    address = _text("Address, when the child does not live at the incident address")
    borough = _text("ONS code of the borough the child lives in")
    lives_there = _flag("Lives at the incident address")
    present = _flag("Present at the incident")
    present_where = _text("Where the child was during the incident")
    spoken_to = _flag("Spoken to by officers")
    voice = _text("What the child said")
    school_urn = _text("URN of the child's school")
    home_educated = _flag("Educated at home")
    known_to_social_care = _flag("Known to children's social care (null: not known)")


class NotificationIn(_Strict):
    id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The sender's id: a retry with the same id makes no copy"},
    )
    police_reference = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    received_at = fields.AwareDateTime(required=True)
    borough = fields.String(required=True, metadata={"description": "ONS code, like E09000022"})
    location = _text("Address or place")
    summary = _text("What happened, in brief")
    risk = fields.Nested(RiskIn, required=True)
    adults = fields.List(fields.Nested(AdultIn), load_default=list)
    children = fields.List(fields.Nested(ChildIn), required=True)
    duplicate_reason = _text("Only when this police reference was sent before")


class ReferralState_(Schema):
    number = fields.String(required=True, metadata={"example": "REF-000123"})
    agency = fields.String(required=True, metadata={"description": "The agency's name"})
    agency_kind = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf([s.value for s in ReferralState]))
    due_at = fields.AwareDateTime(allow_none=True, metadata={"description": "The running clock"})
    sent_at = fields.AwareDateTime(required=True)


class NotificationOut(Schema):
    id = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf([s.value for s in IncidentStatus])
    )
    status_label = fields.String(required=True)
    received_at = fields.AwareDateTime(required=True)
    referrals = fields.List(fields.Nested(ReferralState_), required=True)


class ReferralListQuery(_Strict):
    state = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in ReferralState])),
        metadata={"description": "Only referrals in these states (repeat the parameter)"},
    )
    updated_since = fields.AwareDateTime(
        metadata={"description": "Only referrals changed after this time (ISO 8601 with offset)"}
    )
    after = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "The `next` cursor of the previous page"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ReferralSummary(Schema):
    number = fields.String(required=True)
    who = fields.String(
        required=True,
        metadata={"description": "How the portal's list names the child for this agency's kind"},
    )
    state = fields.String(required=True)
    sent_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(allow_none=True, metadata={"description": "The running clock"})
    paused = fields.Boolean(required=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    decision = fields.String(allow_none=True)
    declined_at = fields.AwareDateTime(allow_none=True)
    link = fields.String(required=True)


class ReferralPage(Schema):
    items = fields.List(fields.Nested(ReferralSummary), required=True)
    next = fields.String(allow_none=True, metadata={"description": "Cursor of the next page"})


class PersonOut(Schema):
    pseudonym = fields.String(required=True)
    role = fields.String(required=True)
    age_band = fields.String(required=True)
    name = fields.String(allow_none=True)
    date_of_birth = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class MessageOut(Schema):
    id = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    from_desk = fields.Boolean(required=True)
    body = fields.String(required=True)


class Choice(Schema):
    value = fields.String(required=True, metadata={"description": "What to send"})
    label = fields.String(required=True, metadata={"description": "What the portal shows"})


class ReferralOut(ReferralSummary):
    """What the portal shows this agency's kind: fields not for the kind are absent."""

    agency_kind = fields.String(required=True)
    subject = fields.Nested(PersonOut, required=True)
    police_reference = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime(allow_none=True)
    received_at = fields.AwareDateTime(allow_none=True)
    place = fields.String(allow_none=True)
    present = fields.Boolean(allow_none=True)
    present_where = fields.String(allow_none=True)
    voice = fields.String(allow_none=True)
    spoken_to = fields.Boolean(allow_none=True)
    school = fields.String(allow_none=True)
    known_to_social_care = fields.Boolean(allow_none=True)
    risk = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    household = fields.List(fields.Nested(PersonOut), allow_none=True)
    siblings = fields.List(fields.Nested(PersonOut), allow_none=True)
    outcomes = fields.List(fields.Nested(Choice), required=True)
    decline_reasons = fields.List(fields.Nested(Choice), required=True)
    messages = fields.List(fields.Nested(MessageOut), required=True)


class DeclineIn(_Strict):
    category = fields.String(
        required=True, metadata={"description": "The value of one of decline_reasons"}
    )
    reason = fields.String(required=True, metadata={"description": "Tell the desk more"})


class DecisionIn(_Strict):
    outcome = fields.String(required=True, metadata={"description": "The value of one of outcomes"})
    note = fields.String(load_default="")


class MessageIn(_Strict):
    body = fields.String(required=True)


class WebhookIn(_Strict):
    url = fields.String(required=True, metadata={"description": "https:// address to POST to"})


class WebhookOut(Schema):
    url = fields.String(required=True)
    secret = fields.String(
        required=True, metadata={"description": "Signing secret, shown once: keep it"}
    )


class FieldProblem(Schema):
    path = fields.String(required=True, metadata={"description": "JSON pointer to the field"})
    message = fields.String(required=True)


class Problem(Schema):
    """RFC 9457 problem details: every 4xx and 5xx answer of the API."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(FieldProblem))
