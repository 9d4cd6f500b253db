"""Chasing a partner and the supervisor's actions on a referral: a phone call, a re-sent notice,
a new desk officer, a later deadline. Each is a move of the one transition table (audited)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.escalation import Chase
from referrals.models.outbox import OutboxMessage
from referrals.models.referral import Referral, Transition
from referrals.models.user import Role, User
from referrals.services import (
    audit,
    escalation,
    free_text,
    identity_store,
    notify,
    outbox,
    transitions,
)
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput, NotFound
from referrals.services.referral_lifecycle import for_desk

CHASE_OUTCOMES = [
    ("will_acknowledge", "Spoke to the partner: they will act on it today"),
    ("acknowledged_by_phone", "Spoke to the partner: acknowledged by phone"),
    ("left_message", "Left a message"),
    ("no_answer", "No answer"),
    ("not_received", "The partner says it was not received"),
]


def record_chase(actor: Actor, referral_id: int, outcome: str, note: str) -> Chase:
    """A phone call to the partner about a referral (before school, or when it is overdue)."""
    referral = for_desk(actor, referral_id)
    labels = dict(CHASE_OUTCOMES)
    if outcome not in labels:
        raise InvalidInput({"outcome": "Choose what happened on the call"})
    note = free_text.checked(note, text_limit(Chase.note_sealed_id), field="note", label="The note")
    sealed = identity_store.seal_optional("chase.note", note)
    transitions.apply(
        actor,
        referral,
        Transition.CHASE,
        detail=labels[outcome],
        recipients=[referral.agency.code],
        audit_detail={"outcome": outcome},
    )
    chase = Chase(
        referral_id=referral.id,
        at=clock.now(),
        by_id=actor.user_id,
        outcome=outcome,
        note_sealed_id=sealed.id if sealed else None,
    )
    db.session.add(chase)
    return chase


def resend_notice(actor: Actor, referral_id: int) -> OutboxMessage:
    referral = for_desk(actor, referral_id)
    if referral.can(Transition.RESEND) and not referral.agency.notice_email:
        raise DomainError(f"{referral.agency.name} has no notice e-mail address on record")
    transitions.apply(
        actor,
        referral,
        Transition.RESEND,
        detail=f"to {referral.agency.notice_email}",
        recipients=[referral.agency.notice_email or ""],
    )
    return notify.queue("new_referral", referral.agency.notice_email or "", referral)


def reassign(actor: Actor, referral_id: int, owner_id: int) -> Referral:
    referral = for_desk(actor, referral_id)
    owner = db.session.get(User, owner_id) if 0 < owner_id < 2**31 else None
    if owner is None or not owner.active or owner.role not in (Role.DESK_OFFICER, Role.SUPERVISOR):
        raise InvalidInput({"owner_id": "Choose an active desk officer or supervisor"})
    transitions.apply(
        actor,
        referral,
        Transition.REASSIGN,
        values={"owner_id": owner.id},
        detail=f"to {owner.display_name}",
        audit_detail={"owner": owner.id},
    )
    return referral


def extend(actor: Actor, referral_id: int, new_due: datetime | None, reason: str) -> Referral:
    """A later due time for the clock now running, with a reason. Extending the
    acknowledgement moves the decision's due time on by as much."""
    referral = for_desk(actor, referral_id)
    errors: dict[str, str] = {}
    current = referral.clock_due_at
    if new_due is None:
        errors["new_due"] = "Enter the new due date and time"
    elif current is not None and new_due <= current:
        errors["new_due"] = "An extension must be later than the current due time"
    elif new_due <= clock.now():
        errors["new_due"] = "The new due time must be in the future"
    try:
        reason = free_text.reason(reason, text_limit(AuditEvent.reason))
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    if errors:
        raise InvalidInput(errors)
    if new_due is None or current is None:
        raise transitions.Refused(referral.refusal(Transition.EXTEND) or "No deadline is running")
    values: dict[str, object] = {"clock_due_at": new_due}
    if referral.state.awaiting_acknowledgement:
        values["due_at"] = new_due
        if referral.decision_due_at is not None:
            values["decision_due_at"] = referral.decision_due_at + (new_due - current)
    else:
        values["decision_due_at"] = new_due
    values["next_escalation_at"] = escalation.next_step(
        referral, new_due, referral.escalation_level
    )
    transitions.apply(
        actor,
        referral,
        Transition.EXTEND,
        values=values,
        detail=f"to {clock.shown(new_due)}",
        reason=reason,
        audit_detail={"from": current.isoformat(), "to": new_due.isoformat()},
    )
    return referral


def retry_email(actor: Actor, message_id: int) -> OutboxMessage:
    message = outbox.resend(message_id, clock.now())
    if message is None:
        raise NotFound("No failed e-mail with that number")
    audit.record(actor, AuditKind.ALTERATION, "outbox.retried", "outbox", message.id)
    return message


def desk_staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_((Role.DESK_OFFICER, Role.SUPERVISOR)))
            .order_by(User.display_name)
        )
    )
