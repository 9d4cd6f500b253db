"""E-mails as outbox rows, written in the caller's transaction.

An e-mail holds a reference (a referral's number, or an incident's), the agency, a due time and
a link that requires sign-in: never a name, a date of birth, an address or free text (a test
renders every template with synthetic data and scans it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import render_template

from referrals import clock
from referrals.extensions import db
from referrals.models.deadlines import DeadlineClock
from referrals.models.incident import DeskClock, Incident
from referrals.models.outbox import OutboxMessage, OutboxState
from referrals.models.referral import Referral
from referrals.queries import agencies
from referrals.runtime import runtime

TEMPLATES = {
    "new_referral": "New referral {ref} for {agency}",
    "reminder": "Overdue: referral {ref} for {agency} is waiting for {waiting}",
    "duty_manager": "Escalation: referral {ref} for {agency} is overdue for {waiting}",
    "supervisor": "Escalation to the desk: referral {ref} for {agency} is overdue for {waiting}",
    "desk_deadline": "The desk's {waiting} deadline passed: incident {ref} is not sent yet",
    "desk_declined": "Referral {ref} for {agency} was declined: it needs the desk",
    "desk_question": "Referral {ref} for {agency}: the partner asks the desk a question",
    "invitation": "You are invited to the referral desk",
    "password_reset": "Reset your referral desk password",
}
# E-mails whose link is a secret (a single-use sign-up or reset link): once sent, the outbox
# keeps no copy of the body.
CARRIES_A_SECRET = frozenset({"invitation", "password_reset"})
# Templates for the desk's own people: their link opens the desk's page, not the portal's.
FOR_THE_DESK = frozenset({"supervisor", "desk_declined", "desk_question"})
WAITING = {
    DeadlineClock.ACKNOWLEDGE: "acknowledgement",
    DeadlineClock.DECISION: "a decision",
    DeskClock.TRIAGE: "triage",
    DeskClock.SHARE_BY: "Operation Encompass",
}


@dataclass(frozen=True)
class MailContext:
    """Everything a template may use. Nothing here can identify a person."""

    reference: str
    agency: str
    due_at: str
    link: str
    step: str
    waiting: str = "acknowledgement"


def _when(moment: datetime | None) -> str:
    return f"{clock.to_london(moment):%H:%M on %A %-d %B %Y}" if moment else "—"


def context_for(referral: Referral, template: str) -> MailContext:
    """For a referral: the due time of its running clock (the acknowledgement's, for a new
    referral), and a link to the partner's page (the desk's, for the desk's supervisors)."""
    base = runtime().settings.base_url
    path = (
        f"/desk/referrals/{referral.id}"
        if template in FOR_THE_DESK
        else f"/portal/referrals/{referral.id}"
    )
    running = referral.running_clock or DeadlineClock.ACKNOWLEDGE
    due = referral.due_at if template == "new_referral" else referral.clock_due_at
    return MailContext(
        reference=referral.reference,
        agency=referral.agency.name,
        due_at=_when(due or referral.due_at),
        link=f"{base}{path}",
        step=template,
        waiting=WAITING[running],
    )


def incident_context(incident: Incident, desk_clock: DeskClock) -> MailContext:
    """For the desk's own deadline on an incident: its number and a link to the desk's page."""
    due = incident.triage_due_at if desk_clock is DeskClock.TRIAGE else incident.share_by_at
    return MailContext(
        reference=f"INC-{incident.id:06d}",
        agency="the police referrals desk",
        due_at=_when(due),
        link=f"{runtime().settings.base_url}/desk/incidents/{incident.id}",
        step="desk_deadline",
        waiting=WAITING[desk_clock],
    )


def queue_account(template: str, to_address: str, link: str, expires_at: datetime) -> OutboxMessage:
    """An invitation or a reset link, to the address on file. It names no case and no person."""
    return queue_context(
        to_address,
        MailContext(reference="", agency="", due_at=_when(expires_at), link=link, step=template),
    )


def render(template: str, context: MailContext) -> tuple[str, str]:
    subject = TEMPLATES[template].format(
        ref=context.reference, agency=context.agency, waiting=context.waiting
    )
    body = render_template(f"email/{template}.txt", c=context)
    return subject, body


def queue(
    template: str, to_address: str, referral: Referral, *, not_before: datetime | None = None
) -> OutboxMessage:
    return queue_context(
        to_address, context_for(referral, template), referral_id=referral.id, not_before=not_before
    )


def tell_the_desk(template: str, referral: Referral) -> OutboxMessage | None:
    """A notice to the desk's shared address (the police desk agency's), if it has one."""
    desk = agencies.police_desk()
    if desk is None or not desk.notice_email:
        return None
    return queue(template, desk.notice_email, referral)


def queue_context(
    to_address: str,
    context: MailContext,
    *,
    referral_id: int | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    subject, body = render(context.step, context)
    domain = runtime().settings.mail.sender.partition("@")[2] or "referral-desk.invalid"
    message = OutboxMessage(
        template=context.step,
        to_address=to_address,
        subject=subject,
        body=body,
        message_id=f"<{uuid.uuid4().hex}.{context.step}@{domain}>",
        referral_id=referral_id,
        state=OutboxState.PENDING,
        attempts=0,
        next_attempt_at=not_before or clock.now(),
    )
    db.session.add(message)
    return message
