"""The supervisor's actions on an overdue referral. Each is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditKind
from referrals.models.escalation import Chase
from referrals.models.outbox import OutboxMessage
from referrals.models.referral import Referral
from referrals.models.user import Role, User
from referrals.services import audit, escalation, identity_store, notify, outbox
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput, NotFound
from referrals.services.referral_lifecycle import for_desk, record_event

CHASE_OUTCOMES = [
    ("will_acknowledge", "Spoke to the partner: they will acknowledge today"),
    ("acknowledged_by_phone", "Spoke to the partner: acknowledged by phone"),
    ("left_message", "Left a message"),
    ("no_answer", "No answer"),
    ("not_received", "The partner says it was not received"),
]


def record_chase(actor: Actor, referral_id: int, outcome: str, note: str) -> Chase:
    referral = for_desk(actor, referral_id)
    labels = dict(CHASE_OUTCOMES)
    errors = {}
    if outcome not in labels:
        errors["outcome"] = "Choose what happened on the call"
    if len(note.strip()) > 1000:
        errors["note"] = "The note must be 1000 characters or fewer"
    if errors:
        raise InvalidInput(errors)
    sealed = identity_store.seal_optional("chase.note", note.strip())
    chase = Chase(
        referral_id=referral.id,
        at=clock.now(),
        by_id=actor.user_id,
        outcome=outcome,
        note_sealed_id=sealed.id if sealed else None,
    )
    db.session.add(chase)
    record_event(referral, actor, "phone chase", labels[outcome])
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "referral.chased",
        "referral",
        referral.id,
        recipients=[referral.agency.code],
        detail={"outcome": outcome},
    )
    return chase


def resend_notice(actor: Actor, referral_id: int) -> OutboxMessage:
    referral = for_desk(actor, referral_id)
    if not referral.state.awaiting_acknowledgement:
        raise DomainError("Only a referral still waiting for acknowledgement can be re-sent")
    if not referral.agency.notice_email:
        raise DomainError(f"{referral.agency.name} has no notice e-mail address on record")
    message = notify.queue("new_referral", referral.agency.notice_email, referral)
    record_event(referral, actor, "notice re-sent", f"to {referral.agency.notice_email}")
    audit.record(
        actor,
        AuditKind.DISCLOSURE,
        "referral.notice_resent",
        "referral",
        referral.id,
        recipients=[referral.agency.notice_email],
    )
    return message


def reassign(actor: Actor, referral_id: int, owner_id: int) -> Referral:
    referral = for_desk(actor, referral_id)
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.active or owner.role not in (Role.DESK_OFFICER, Role.SUPERVISOR):
        raise InvalidInput({"owner_id": "Choose an active desk officer or supervisor"})
    referral.owner_id = owner.id
    record_event(referral, actor, "re-assigned", f"to {owner.display_name}")
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "referral.reassigned",
        "referral",
        referral.id,
        detail={"owner": owner.id},
    )
    return referral


def extend(actor: Actor, referral_id: int, new_due: datetime | None, reason: str) -> Referral:
    referral = for_desk(actor, referral_id)
    errors = {}
    now = clock.now()
    if new_due is None:
        errors["new_due"] = "Enter the new due date and time"
    elif new_due <= referral.due_at:
        errors["new_due"] = "An extension must be later than the current due time"
    elif new_due <= now:
        errors["new_due"] = "The new due time must be in the future"
    if len(reason.strip()) < 10:
        errors["reason"] = "Give a reason of at least 10 characters"
    if errors:
        raise InvalidInput(errors)
    if not referral.state.awaiting_acknowledgement:
        raise DomainError("Only a referral waiting for acknowledgement has a deadline to extend")
    assert new_due is not None
    before = referral.due_at
    referral.due_at = new_due
    escalation.reschedule(referral)
    record_event(
        referral, actor, "deadline extended", f"to {clock.to_london(new_due):%-d %b %Y %H:%M}"
    )
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "referral.extended",
        "referral",
        referral.id,
        reason=reason.strip(),
        detail={"from": before.isoformat(), "to": new_due.isoformat()},
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
