"""E-mails as outbox rows, written in the caller's transaction.

An e-mail holds the referral's number, the agency, the due time and a link that requires
sign-in: never a name, a date of birth, an address or free text (a test renders every template
with synthetic data and scans it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import render_template

from referrals import clock
from referrals.extensions import db
from referrals.models.outbox import OutboxMessage, OutboxState
from referrals.models.referral import Referral
from referrals.runtime import runtime

TEMPLATES = {
    "new_referral": "New referral {ref} for {agency}",
    "reminder": "Overdue: referral {ref} for {agency} is waiting for acknowledgement",
    "duty_manager": "Escalation: referral {ref} for {agency} is overdue",
    "supervisor": "Escalation to the desk: referral {ref} for {agency} is overdue",
}


@dataclass(frozen=True)
class MailContext:
    """Everything a template may use. Nothing here can identify a person."""

    reference: str
    agency: str
    due_at: str
    link: str
    step: str


def reference(referral: Referral) -> str:
    return f"REF-{referral.id:06d}"


def context_for(referral: Referral, template: str) -> MailContext:
    base = runtime().settings.base_url
    path = (
        f"/desk/referrals/{referral.id}"
        if template == "supervisor"
        else (f"/portal/referrals/{referral.id}")
    )
    return MailContext(
        reference=reference(referral),
        agency=referral.agency.name,
        due_at=f"{clock.to_london(referral.due_at):%H:%M on %A %-d %B %Y}",
        link=f"{base}{path}",
        step=template,
    )


def render(template: str, context: MailContext) -> tuple[str, str]:
    subject = TEMPLATES[template].format(ref=context.reference, agency=context.agency)
    body = render_template(f"email/{template}.txt", c=context)
    return subject, body


def queue(
    template: str, to_address: str, referral: Referral, *, not_before: datetime | None = None
) -> OutboxMessage:
    subject, body = render(template, context_for(referral, template))
    domain = runtime().settings.mail.sender.partition("@")[2] or "referral-desk.invalid"
    message = OutboxMessage(
        template=template,
        to_address=to_address,
        subject=subject,
        body=body,
        message_id=f"<{uuid.uuid4().hex}.{template}@{domain}>",
        referral_id=referral.id,
        state=OutboxState.PENDING,
        attempts=0,
        next_attempt_at=not_before or clock.now(),
    )
    db.session.add(message)
    return message
