"""Forms for chasing a partner (any desk role) and the supervisor's actions on a referral."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextArea, GovTextInput
from wtforms import RadioField, SelectField, StringField, TextAreaField

from referrals.services import supervision
from referrals.web.forms import DayMonthYearField, Radios, options


class ChaseForm(FlaskForm):
    outcome = RadioField(
        "What happened on the call?",
        widget=Radios(),
        choices=options(supervision.CHASE_OUTCOMES),
        validate_choice=False,
    )
    note = TextAreaField("Note", description="Optional", widget=GovTextArea())


class ReassignForm(FlaskForm):
    owner_id = SelectField("Desk officer", widget=GovSelect(), validate_choice=False)


class ExtendForm(FlaskForm):
    new_date = DayMonthYearField("New due date")
    new_time = StringField(
        "New due time", description="24-hour clock, like 16:00", widget=GovTextInput()
    )
    reason = TextAreaField("Why extend the deadline?", widget=GovTextArea())


def supervisor_forms() -> dict[str, FlaskForm]:
    """The supervisor's action forms shown on a referral's desk page."""
    reassign = ReassignForm(formdata=None, prefix="reassign")
    reassign.owner_id.choices = options(
        [(str(u.id), u.display_name) for u in supervision.desk_staff()]
    )
    return {"reassign": reassign, "extend": ExtendForm(formdata=None, prefix="extend")}
