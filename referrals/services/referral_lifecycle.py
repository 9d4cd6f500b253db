"""A referral's life: viewed, acknowledged, decided or declined, withdrawn, paused and resumed,
and the message thread. Every transition is a compare-and-set UPDATE on ``state`` and
``version``, so two people acting at once cannot both win, on SQLite or PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditKind
from referrals.models.incident import Incident, IncidentStatus
from referrals.models.referral import (
    AWAITING,
    OPEN_STATES,
    Referral,
    ReferralEvent,
    ReferralMessage,
    ReferralState,
)
from referrals.models.user import User
from referrals.security import policy
from referrals.services import audit, deadlines, escalation, identity_store
from referrals.services.actors import Actor
from referrals.services.disclosure import Disclosure, disclose
from referrals.services.errors import DomainError, InvalidInput, NotFound
from referrals.services.outcomes import outcomes_for

MIN_REASON = 10
MAX_TEXT = 2000


class AlreadyDone(DomainError):
    """Someone else got there first; the message says who and when."""


def _text(value: str, name: str, label: str, *, minimum: int = MIN_REASON) -> str:
    value = value.strip()
    if len(value) < minimum:
        raise InvalidInput({name: f"{label} must be at least {minimum} characters"})
    if len(value) > MAX_TEXT:
        raise InvalidInput({name: f"{label} must be {MAX_TEXT} characters or fewer"})
    return value


def record_event(referral: Referral, actor: Actor, action: str, detail: str | None = None) -> None:
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=clock.now(),
            actor_id=actor.user_id,
            actor_label=actor.label,
            action=action,
            detail=detail,
        )
    )


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
    now = clock.now()
    if referral.state is ReferralState.SENT:
        moved = _move(referral, (ReferralState.SENT,), ReferralState.VIEWED, viewed_at=now)
        if moved:
            record_event(referral, actor, "viewed")
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


def _move(
    referral: Referral, expected: tuple[ReferralState, ...], to: ReferralState, **values: Any
) -> bool:
    result = db.session.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.state.in_(expected),
            Referral.version == referral.version,
        )
        .values(state=to, version=Referral.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(referral)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _who(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else "someone"


def acknowledge(actor: Actor, referral_id: int) -> Referral:
    referral = for_partner(actor, referral_id)
    now = clock.now()
    if referral.state in AWAITING and _move(
        referral,
        AWAITING,
        ReferralState.ACKNOWLEDGED,
        acknowledged_at=now,
        acknowledged_by_id=actor.user_id,
        next_escalation_at=None,
        paused_at=None,
    ):
        record_event(referral, actor, "acknowledged")
        audit.record(actor, AuditKind.ALTERATION, "referral.acknowledged", "referral", referral.id)
        return referral
    if referral.acknowledged_at is not None:
        raise AlreadyDone(
            f"Already acknowledged by {_who(referral.acknowledged_by_id)} at "
            f"{clock.to_london(referral.acknowledged_at):%H:%M on %-d %b %Y}"
        )
    raise DomainError(f"This referral is {referral.state.label.lower()} and cannot be acknowledged")


def decline(actor: Actor, referral_id: int, reason: str) -> Referral:
    referral = for_partner(actor, referral_id)
    reason = _text(reason, "reason", "The reason for declining")
    sealed = identity_store.seal("referral.decline_reason", reason)
    if not _move(
        referral,
        OPEN_STATES,
        ReferralState.DECLINED,
        declined_at=clock.now(),
        declined_by_id=actor.user_id,
        next_escalation_at=None,
        decline_reason_sealed_id=sealed.id,
    ):
        raise DomainError(f"This referral is {referral.state.label.lower()} and cannot be declined")
    record_event(referral, actor, "declined")
    audit.record(
        actor, AuditKind.ALTERATION, "referral.declined", "referral", referral.id, reason=None
    )
    _close_incident_if_done(referral.incident_id)
    return referral


def decide(actor: Actor, referral_id: int, outcome: str, note: str) -> Referral:
    referral = for_partner(actor, referral_id)
    allowed = dict(outcomes_for(referral.agency.kind))
    if outcome not in allowed:
        raise InvalidInput({"outcome": "Choose one of the outcomes listed"})
    note = note.strip()
    if len(note) > MAX_TEXT:
        raise InvalidInput({"note": f"The note must be {MAX_TEXT} characters or fewer"})
    if referral.state in AWAITING:
        raise DomainError("Acknowledge the referral before recording a decision")
    sealed = identity_store.seal_optional("referral.decision_note", note)
    if not _move(
        referral,
        (ReferralState.ACKNOWLEDGED,),
        ReferralState.DECIDED,
        decided_at=clock.now(),
        decided_by_id=actor.user_id,
        decision=outcome,
        decision_note_sealed_id=sealed.id if sealed else None,
    ):
        raise AlreadyDone(
            f"A decision was already recorded by {_who(referral.decided_by_id)}"
            if referral.state is ReferralState.DECIDED
            else f"This referral is {referral.state.label.lower()}"
        )
    record_event(referral, actor, "decided", allowed[outcome])
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "referral.decided",
        "referral",
        referral.id,
        detail={"outcome": outcome},
    )
    _close_incident_if_done(referral.incident_id)
    return referral


def withdraw(actor: Actor, referral_id: int, reason: str) -> Referral:
    referral = for_desk(actor, referral_id)
    reason = _text(reason, "reason", "The reason for withdrawing")
    if not _move(
        referral,
        OPEN_STATES,
        ReferralState.WITHDRAWN,
        withdrawn_at=clock.now(),
        withdrawn_by_id=actor.user_id,
        next_escalation_at=None,
        paused_at=None,
    ):
        raise DomainError(
            f"This referral is {referral.state.label.lower()} and cannot be withdrawn"
        )
    record_event(referral, actor, "withdrawn")
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "referral.withdrawn",
        "referral",
        referral.id,
        reason=reason,
        recipients=[referral.agency.code],
    )
    _close_incident_if_done(referral.incident_id)
    return referral


def pause(actor: Actor, referral_id: int, reason: str) -> Referral:
    referral = for_desk(actor, referral_id)
    reason = _text(reason, "reason", "The reason for pausing")
    if referral.paused_at is not None:
        raise DomainError("This referral is already paused")
    if not referral.state.awaiting_acknowledgement:
        raise DomainError("Only a referral waiting for acknowledgement can be paused")
    result = db.session.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.version == referral.version,
            Referral.paused_at.is_(None),
            Referral.state.in_(AWAITING),
        )
        .values(paused_at=clock.now(), pause_reason=reason, version=Referral.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(referral)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise AlreadyDone("Someone changed this referral a moment ago: reload and try again")
    record_event(referral, actor, "paused", reason)
    audit.record(
        actor, AuditKind.ALTERATION, "referral.paused", "referral", referral.id, reason=reason
    )
    return referral


def resume(actor: Actor, referral_id: int) -> Referral:
    referral = for_desk(actor, referral_id)
    paused_at = referral.paused_at
    if paused_at is None:
        raise DomainError("This referral is not paused")
    now = clock.now()
    new_due = deadlines.shift_for_pause(referral.agency, referral.due_at, paused_at, now)
    new_due = max(new_due, now)  # never in the past when set
    result = db.session.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.version == referral.version,
            Referral.paused_at.is_not(None),
        )
        .values(paused_at=None, pause_reason=None, due_at=new_due, version=Referral.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(referral)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise AlreadyDone("Someone changed this referral a moment ago: reload and try again")
    escalation.reschedule(referral)
    detail = f"due {clock.to_london(new_due):%-d %b %Y %H:%M}"
    record_event(referral, actor, "resumed", detail)
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "referral.resumed",
        "referral",
        referral.id,
        detail={"due_at": new_due.isoformat(), "paused_from": paused_at.isoformat()},
    )
    return referral


def post_message(
    actor: Actor, referral: Referral, body: str, *, from_desk: bool
) -> ReferralMessage:
    """A request for more information (partner) or an answer (desk), on the referral's thread."""
    if referral.state is ReferralState.WITHDRAWN:
        raise DomainError("This referral was withdrawn")
    body = _text(body, "body", "The message", minimum=2)
    message = ReferralMessage(
        referral_id=referral.id,
        at=clock.now(),
        author_id=actor.user_id,
        author_label=actor.label,
        from_desk=from_desk,
        body_sealed_id=identity_store.seal("referral.message", body).id,
    )
    db.session.add(message)
    db.session.flush()
    record_event(referral, actor, "desk answered" if from_desk else "asked for information")
    audit.record(
        actor,
        AuditKind.DISCLOSURE if from_desk else AuditKind.COLLECTION,
        "referral.message",
        "referral",
        referral.id,
        recipients=[referral.agency.code] if from_desk else None,
    )
    return message


def thread(referral: Referral) -> list[tuple[ReferralMessage, str]]:
    messages = db.session.scalars(
        select(ReferralMessage)
        .where(ReferralMessage.referral_id == referral.id)
        .order_by(ReferralMessage.at, ReferralMessage.id)
    )
    return [(m, identity_store.unseal_id(m.body_sealed_id) or "") for m in messages]


def history(referral: Referral) -> list[ReferralEvent]:
    return list(
        db.session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at, ReferralEvent.id)
        )
    )


def _close_incident_if_done(incident_id: int) -> None:
    open_left = db.session.scalar(
        select(Referral.id)
        .where(Referral.incident_id == incident_id, Referral.state.in_(OPEN_STATES))
        .limit(1)
    )
    if open_left is None:
        db.session.execute(
            update(Incident)
            .where(Incident.id == incident_id, Incident.status == IncidentStatus.ROUTED)
            .values(status=IncidentStatus.CLOSED)
        )
