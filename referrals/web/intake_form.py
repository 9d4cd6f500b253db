"""The intake form: parsing what was typed into an :class:`IncidentInput`, losing nothing.

Type problems (a date that is not a date) are found here; every domain rule lives in
:mod:`referrals.services.intake` and comes back keyed by field path.
"""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from referrals.models.incident import ADULT_ROLES, PersonRole, RiskGrade
from referrals.reference import borough_choices
from referrals.services.intake import AdultInput, ChildInput, IncidentInput
from referrals.web.forms import (
    Checkbox,
    DayMonthYearField,
    Radios,
    Select,
    TextArea,
    TextInput,
    enum_or_none,
    london_moment,
    options,
)

YES_NO = options([("yes", "Yes"), ("no", "No")])
MAX_PEOPLE = 20


def _boroughs() -> list[SelectChoice]:
    return options([("", "Choose a borough"), *borough_choices()])


def yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


class AdultForm(Form):
    role = RadioField(
        "Role",
        choices=options([(r.value, r.label) for r in ADULT_ROLES]),
        widget=Radios(),
        validate_choice=False,
    )
    given_name = StringField("First name", widget=TextInput())
    family_name = StringField("Last name", widget=TextInput())
    date_of_birth = DayMonthYearField(
        "Date of birth", description="If known. For example, 27 3 1990"
    )
    address = StringField("Address", widget=TextInput())
    phone = StringField("Phone number", widget=TextInput())


class ChildForm(Form):
    given_name = StringField("First name", widget=TextInput())
    family_name = StringField("Last name", widget=TextInput())
    date_of_birth = DayMonthYearField("Date of birth", description="For example, 27 3 2015")
    address = StringField("Address where the child lives", widget=TextInput())
    borough = SelectField(
        "Borough where the child lives",
        choices=_boroughs,
        widget=Select(),
        validate_choice=False,
    )
    lives_there = RadioField(
        "Does the child live at the incident address?",
        description="If yes, the desk takes the incident's location and borough as the child's",
        choices=YES_NO,
        widget=Radios(),
        validate_choice=False,
    )
    present = RadioField(
        "Was the child present?", choices=YES_NO, widget=Radios(), validate_choice=False
    )
    present_where = StringField(
        "Where was the child during the incident?",
        description="Only if present",
        widget=TextInput(),
    )
    spoken_to = RadioField(
        "Did officers speak to the child?",
        choices=YES_NO,
        widget=Radios(),
        validate_choice=False,
    )
    voice = TextAreaField(
        "What the child said",
        description="The voice of the child, in their words if possible",
        widget=TextArea(),
    )
    school_urn = StringField(
        "School or setting URN",
        description="6 digits. Leave blank if none or not known",
        widget=TextInput(),
    )
    home_educated = BooleanField("The child is electively home-educated", widget=Checkbox())
    known_to_social_care = RadioField(
        "Is the child already known to children's social care?",
        choices=options([("yes", "Yes"), ("no", "No"), ("unknown", "Not known")]),
        widget=Radios(),
        validate_choice=False,
    )


class IncidentForm(FlaskForm):
    submission_key = HiddenField()
    police_reference = StringField(
        "Police reference",
        description="CAD or CONNECT number, like CAD1234/21NOV26",
        widget=TextInput(),
    )
    occurred_date = DayMonthYearField("Date of the incident")
    occurred_time = StringField(
        "Time of the incident", description="24-hour clock, like 21:30", widget=TextInput()
    )
    received_date = DayMonthYearField("Date the desk received it")
    received_time = StringField(
        "Time the desk received it", description="24-hour clock", widget=TextInput()
    )
    borough = SelectField(
        "Borough where it happened", choices=_boroughs, widget=Select(), validate_choice=False
    )
    location = StringField("Location", description="Address or place", widget=TextInput())
    summary = TextAreaField("What happened, in brief", widget=TextArea())
    risk_actuarial = RadioField(
        "Actuarial risk grade (DASH or DARA)",
        choices=options([(g.value, g.label) for g in RiskGrade]),
        widget=Radios(),
        validate_choice=False,
    )
    risk_raised = RadioField(
        "Do you raise the grade by professional judgement?",
        description="Judgement can raise the grade, never lower it.",
        choices=YES_NO,
        widget=Radios(),
        validate_choice=False,
        default="no",
    )
    risk_judgement = RadioField(
        "Raised grade",
        choices=options([(g.value, g.label) for g in RiskGrade]),
        widget=Radios(),
        validate_choice=False,
    )
    risk_rationale = TextAreaField(
        "Rationale for the raise",
        description="Required when you raise the grade",
        widget=TextArea(),
    )
    duplicate_reason = TextAreaField(
        "Why log this reference again?",
        description="This police reference was logged before. Say why this is a different "
        "incident, or open the earlier one instead.",
        widget=TextArea(),
    )
    adults = FieldList(FormField(AdultForm), min_entries=1, max_entries=MAX_PEOPLE)
    children = FieldList(FormField(ChildForm), min_entries=1, max_entries=MAX_PEOPLE)

    # Where a service error path names a value made of two boxes, show it on the first.
    ALIASES = {"occurred_at": "occurred_date", "received_at": "received_date"}


def blank_entry(kind: str) -> SimpleNamespace:
    """An empty adult or child whose names hold ``__N__`` for its position: the page keeps it in
    a ``<template>`` that JavaScript copies to add a person in place, without a round trip."""
    list_name, form_class = ("children", ChildForm) if kind == "child" else ("adults", AdultForm)
    return SimpleNamespace(id=f"{list_name}-__N__", form=form_class(prefix=f"{list_name}-__N__-"))


def new_submission_key() -> str:
    return uuid.uuid4().hex


def _submission_key(posted: str | None) -> str:
    """The form's own key; anything else (tampered, missing) gets a fresh one."""
    return posted if posted and re.fullmatch(r"[0-9a-f]{32}", posted) else new_submission_key()


def to_input(form: IncidentForm) -> tuple[IncidentInput, dict[str, str]]:
    """What the form holds, as the service's input, and the type errors found on the way."""
    parse_errors: dict[str, str] = {}
    occurred, message = london_moment(
        form.occurred_date.data, form.occurred_time.data, "the incident"
    )
    if message:
        parse_errors["occurred_time"] = message
    received, message = london_moment(form.received_date.data, form.received_time.data, "receipt")
    if message:
        parse_errors["received_time"] = message
    adults = [adult_input(entry.form) for entry in form.adults.entries]
    children = [child_input(entry.form, form) for entry in form.children.entries]
    grades = {g.value for g in RiskGrade}
    # A conditional question's answer counts only while the answer that reveals it is chosen
    # (the Design System hides it otherwise). Forms posted without the yes/no keep the old shape.
    raised = form.risk_raised.data if form.risk_raised.raw_data else None
    if raised == "no":
        form.risk_judgement.data, form.risk_rationale.data = "", ""
    elif raised == "yes" and form.risk_judgement.data not in grades:
        parse_errors["risk_judgement"] = "Choose the grade you raise it to"
    data = IncidentInput(
        submission_key=_submission_key(form.submission_key.data),
        police_reference=form.police_reference.data or "",
        occurred_at=occurred,
        received_at=received,
        borough_code=form.borough.data or "",
        location=form.location.data or "",
        summary=form.summary.data or "",
        risk_actuarial=RiskGrade(form.risk_actuarial.data)
        if form.risk_actuarial.data in grades
        else None,
        risk_judgement=RiskGrade(form.risk_judgement.data)
        if form.risk_judgement.data in grades
        else None,
        risk_rationale=form.risk_rationale.data or "",
        adults=adults,
        children=children,
        duplicate_reason=form.duplicate_reason.data or "",
    )
    return data, parse_errors


def adult_input(e: AdultForm) -> AdultInput:
    return AdultInput(
        role=enum_or_none(PersonRole, e.role.data) if e.role.data != "child" else None,
        given_name=e.given_name.data or "",
        family_name=e.family_name.data or "",
        date_of_birth=e.date_of_birth.data,
        address=e.address.data or "",
        phone=e.phone.data or "",
    )


def child_input(e: ChildForm, incident: IncidentForm | None = None) -> ChildInput:
    """One child as typed. On the intake form (``incident``) a child living at the incident
    address takes the incident's location and borough as theirs (the page hides the child's own
    boxes); a child not present has no "where"."""
    lives_there = yes_no(e.lives_there.data)
    if lives_there and incident is not None:
        e.address.data, e.borough.data = incident.location.data, incident.borough.data
    present = yes_no(e.present.data)
    if present is False:
        e.present_where.data = ""
    return ChildInput(
        given_name=e.given_name.data or "",
        family_name=e.family_name.data or "",
        date_of_birth=e.date_of_birth.data,
        address=e.address.data or "",
        borough_code=e.borough.data or "",
        lives_there=lives_there,
        present=present,
        present_where=e.present_where.data or "",
        spoken_to=yes_no(e.spoken_to.data),
        voice=e.voice.data or "",
        school_urn=e.school_urn.data or "",
        home_educated=bool(e.home_educated.data),
        known_to_social_care=yes_no(e.known_to_social_care.data),
    )


def without_entry(formdata: MultiDict[str, str], list_name: str, index: int) -> MultiDict[str, str]:
    """The posted data with entry ``index`` of a FieldList removed and later entries renumbered,
    so that removing a child keeps everything typed for the others."""
    pattern = re.compile(rf"^{re.escape(list_name)}-(\d+)-(.*)$")
    result: MultiDict[str, str] = MultiDict()
    for key, value in formdata.items(multi=True):
        match = pattern.match(key)
        if match is None:
            result.add(key, value)
            continue
        position = int(match[1])
        if position == index:
            continue
        new_position = position - 1 if position > index else position
        result.add(f"{list_name}-{new_position}-{match[2]}", value)
    return result
