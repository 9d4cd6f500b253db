"""A referral's life as partners and the desk live it: opened, acknowledged, decided or declined,
withdrawn, paused and resumed, and the message thread. Each step is a move of the one table
(:data:`referrals.models.referral.MOVES`), applied by :func:`referrals.services.transitions.apply`.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from sqlalchemy import select

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.referral import (
    Referral,
    ReferralEvent,
    ReferralMessage,
    Transition,
)
from referrals.profiles import profile
from referrals.security import policy
from referrals.services import audit, deadlines, escalation, free_text, identity_store, transitions
from referrals.services.actors import Actor
from referrals.services.disclosure import Disclosure, disclose
from referrals.services.errors import InvalidInput, NotFound
from referrals.services.transitions import Refused

AlreadyDone = Refused  # the name the edges have always caught


def for_partner(actor: Actor, referral_id: int) -> Referral:
    """The referral if it is this partner's; otherwise NotFound, exactly as for one that does not
    exist, so a foreign id reveals nothing."""
    referral = db.session.get(Referral, referral_id)
    if referral is None or not policy.can_partner_see_referral(
        actor.role, actor.agency_id, referral
    ):
        raise NotFound("No such referral")
    return referral


def for_desk(actor: Actor, referral_id: int) -> Referral:
    referral = db.session.get(Referral, referral_id)
    if referral is None or not policy.can_view_incident(actor.role, referral.incident):
        raise NotFound("No such referral")
    return referral


def open_for_partner(actor: Actor, referral_id: int) -> tuple[Referral, Disclosure]:
    """What the partner sees. Every opening is a disclosure to their agency; the first marks the
    referral viewed."""
    referral = for_partner(actor, referral_id)
    if referral.can(Transition.VIEW):
        # A colleague opening it at the same moment is refused here: it is viewed either way.
        with suppress(Refused):
            transitions.apply(actor, referral, Transition.VIEW, values={"viewed_at": clock.now()})
    audit.record(
        actor,
        AuditKind.DISCLOSURE,
        "referral.opened",
        "referral",
        referral.id,
        recipients=[referral.agency.code],
        detail={"kind": referral.agency.kind.value, "subject": referral.subject.person.pseudonym},
    )
    return referral, disclose(referral)


def acknowledge(actor: Actor, referral_id: int) -> Referral:
    """Acknowledged: the acknowledgement clock stops and the decision clock, where the agency's
    kind has one, takes over with a ladder of its own."""
    referral = for_partner(actor, referral_id)
    decision_due = referral.decision_due_at
    transitions.apply(
        actor,
        referral,
        Transition.ACKNOWLEDGE,
        values={
            "acknowledged_at": clock.now(),
            "acknowledged_by_id": actor.user_id,
            "paused_at": None,
            "pause_reason": None,
            "clock_due_at": decision_due,
            "escalation_level": 0,
            "next_escalation_at": escalation.next_step(referral, decision_due, 0),
        },
    )
    return referral


_CLOCK_STOPPED = {"clock_due_at": None, "next_escalation_at": None, "paused_at": None}


def decline(actor: Actor, referral_id: int, reason: str) -> Referral:
    referral = for_partner(actor, referral_id)
    reason = free_text.reason(
        reason,
        text_limit(Referral.decline_reason_sealed_id),
        label="The reason for declining",
    )
    transitions.apply(
        actor,
        referral,
        Transition.DECLINE,
        values={
            "declined_at": clock.now(),
            "declined_by_id": actor.user_id,
            "decline_reason_sealed_id": identity_store.seal("referral.decline_reason", reason).id,
            **_CLOCK_STOPPED,
        },
    )
    return referral


def decide(actor: Actor, referral_id: int, outcome: str, note: str) -> Referral:
    referral = for_partner(actor, referral_id)
    allowed = dict(profile(referral.agency.kind).outcomes)
    if outcome not in allowed:
        raise InvalidInput({"outcome": "Choose one of the outcomes listed"})
    note = free_text.checked(
        note, text_limit(Referral.decision_note_sealed_id), field="note", label="The note"
    )
    if referral.state.awaiting_acknowledgement:
        raise Refused("Acknowledge the referral before recording a decision")
    sealed = identity_store.seal_optional("referral.decision_note", note)
    transitions.apply(
        actor,
        referral,
        Transition.DECIDE,
        values={
            "decided_at": clock.now(),
            "decided_by_id": actor.user_id,
            "decision": outcome,
            "decision_note_sealed_id": sealed.id if sealed else None,
            **_CLOCK_STOPPED,
        },
        detail=allowed[outcome],
        audit_detail={"outcome": outcome},
    )
    return referral


def withdraw(actor: Actor, referral_id: int, reason: str) -> Referral:
    referral = for_desk(actor, referral_id)
    reason = free_text.reason(
        reason, text_limit(AuditEvent.reason), label="The reason for withdrawing"
    )
    transitions.apply(
        actor,
        referral,
        Transition.WITHDRAW,
        values={"withdrawn_at": clock.now(), "withdrawn_by_id": actor.user_id, **_CLOCK_STOPPED},
        reason=reason,
        recipients=[referral.agency.code],
    )
    return referral


def pause(actor: Actor, referral_id: int, reason: str) -> Referral:
    """Stop the running clock (awaiting information, say); the reason is shown and audited."""
    referral = for_desk(actor, referral_id)
    reason = free_text.reason(
        reason, text_limit(Referral.pause_reason), label="The reason for pausing"
    )
    transitions.apply(
        actor,
        referral,
        Transition.PAUSE,
        values={"paused_at": clock.now(), "pause_reason": reason},
        detail=reason,
        reason=reason,
    )
    return referral


def resume(actor: Actor, referral_id: int) -> Referral:
    """Restart the clock: every due time still ahead moves on by the working time paused."""
    referral = for_desk(actor, referral_id)
    paused_at = referral.paused_at
    if paused_at is None:
        raise Refused("This referral is not paused")
    now = clock.now()

    def shifted(due: datetime | None) -> datetime | None:
        if due is None:
            return None
        return max(deadlines.shift_for_pause(referral.agency, due, paused_at, now), now)

    values: dict[str, object] = {"paused_at": None, "pause_reason": None}
    if referral.state.awaiting_acknowledgement:
        values["due_at"] = shifted(referral.due_at)
    if referral.decided_at is None:
        values["decision_due_at"] = shifted(referral.decision_due_at)
    new_due = shifted(referral.clock_due_at)
    values["clock_due_at"] = new_due
    values["next_escalation_at"] = escalation.next_step(
        referral, new_due, referral.escalation_level
    )
    transitions.apply(
        actor,
        referral,
        Transition.RESUME,
        values=values,
        detail=f"due {clock.shown(new_due)}" if new_due else None,
        audit_detail={
            "due_at": new_due.isoformat() if new_due else None,
            "paused_from": paused_at.isoformat(),
        },
    )
    return referral


def post_message(
    actor: Actor, referral: Referral, body: str, *, from_desk: bool
) -> ReferralMessage:
    """A request for more information (partner) or an answer (desk), on the referral's thread."""
    transition = Transition.ANSWER if from_desk else Transition.ASK
    problem = referral.refusal(transition)
    if problem is not None:
        raise Refused(problem)
    body = free_text.checked(
        body,
        text_limit(ReferralMessage.body_sealed_id),
        field="body",
        label="The message",
        required="Write your message",
    )
    message = ReferralMessage(
        referral_id=referral.id,
        at=clock.now(),
        author_id=actor.user_id,
        author_label=actor.label,
        from_desk=from_desk,
        body_sealed_id=identity_store.seal("referral.message", body).id,
    )
    db.session.add(message)
    transitions.apply(
        actor,
        referral,
        transition,
        recipients=[referral.agency.code] if from_desk else None,
    )
    return message


def thread(referral: Referral) -> list[tuple[ReferralMessage, str]]:
    messages = list(
        db.session.scalars(
            select(ReferralMessage)
            .where(ReferralMessage.referral_id == referral.id)
            .order_by(ReferralMessage.at, ReferralMessage.id)
        )
    )
    bodies = identity_store.unseal_many([m.body_sealed_id for m in messages])
    return [(m, bodies.get(m.body_sealed_id, "")) for m in messages]


def history(referral: Referral) -> list[ReferralEvent]:
    return list(
        db.session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at, ReferralEvent.id)
        )
    )
