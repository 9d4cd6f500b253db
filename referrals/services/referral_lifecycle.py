"""A referral's life as partners and the desk live it: opened, acknowledged, decided or declined,
withdrawn, paused and resumed, and the message thread. Each step is a move of the one table
(:data:`referrals.models.referral.MOVES`), applied by :func:`referrals.services.transitions.apply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from referrals import clock
from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.escalation import EscalationStep
from referrals.models.referral import (
    MOVES,
    Referral,
    ReferralEvent,
    ReferralMessage,
    Transition,
)
from referrals.models.user import User
from referrals.profiles import decline_label, profile
from referrals.security import policy
from referrals.services import (
    audit,
    deadlines,
    escalation,
    free_text,
    identity_store,
    notify,
    transitions,
    webhooks,
)
from referrals.services.actors import Actor
from referrals.services.disclosure import Disclosure, disclose_many
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
    return _opened(actor, [for_partner(actor, referral_id)])[0]


def open_incident_for_partner(actor: Actor, incident_id: int) -> list[tuple[Referral, Disclosure]]:
    """Every referral of one incident sent to the partner's agency, opened together: the same
    disclosures as opening each, in a fixed number of queries whatever the household size."""
    return _opened(actor, of_incident_for_partner(actor, incident_id))


def _opened(actor: Actor, referrals: list[Referral]) -> list[tuple[Referral, Disclosure]]:
    # A colleague opening one at the same moment is left out here: it is viewed either way.
    transitions.apply_many(actor, referrals, Transition.VIEW, values={"viewed_at": clock.now()})
    with audit.together():
        for referral in referrals:
            audit.record(
                actor,
                AuditKind.DISCLOSURE,
                "referral.opened",
                "referral",
                referral.id,
                recipients=[referral.agency.code],
                detail={
                    "kind": referral.agency.kind.value,
                    "subject": referral.subject.person.pseudonym,
                },
            )
    return list(zip(referrals, disclose_many(referrals), strict=True))


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


def decline(actor: Actor, referral_id: int, category: str, reason: str) -> Referral:
    """Declined, with one of the kind's reasons and the partner's words: the desk's work now
    (it is told by e-mail, and sees it in "Needs the desk")."""
    referral = for_partner(actor, referral_id)
    errors: dict[str, str] = {}
    if category not in dict(profile(referral.agency.kind).decline_reasons):
        errors["category"] = "Choose why you are declining"
    try:
        reason = free_text.reason(
            reason,
            text_limit(Referral.decline_reason_sealed_id),
            label="The reason for declining",
        )
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    if errors:
        raise InvalidInput(errors)
    transitions.apply(
        actor,
        referral,
        Transition.DECLINE,
        values={
            "declined_at": clock.now(),
            "declined_by_id": actor.user_id,
            "decline_category": category,
            "decline_reason_sealed_id": identity_store.seal("referral.decline_reason", reason).id,
            **_CLOCK_STOPPED,
        },
        detail=decline_label(referral.agency.kind, category),
        audit_detail={"category": category},
    )
    notify.tell_the_desk("desk_declined", referral)
    return referral


def decide(actor: Actor, referral_id: int, outcome: str, note: str, *, field: str = "") -> Referral:
    """The partner's decision. A referral not yet acknowledged is acknowledged in the same step
    (both recorded, each with its audit event). ``field`` prefixes the error keys (a page with
    several referrals)."""
    referral = for_partner(actor, referral_id)
    allowed = dict(profile(referral.agency.kind).outcomes)
    if outcome not in allowed:
        raise InvalidInput({f"{field}outcome": "Choose one of the outcomes listed"})
    note = free_text.checked(
        note, text_limit(Referral.decision_note_sealed_id), field=f"{field}note", label="The note"
    )
    if referral.can(Transition.ACKNOWLEDGE):
        acknowledge(actor, referral_id)
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
    now = clock.now()
    message = ReferralMessage(
        referral_id=referral.id,
        at=now,
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
    # A question waits for the desk from the first one unanswered; an answer settles them all.
    waiting = None if from_desk else (referral.question_open_since or now)
    db.session.execute(
        update(Referral)
        .where(Referral.id == referral.id)
        .values(question_open_since=waiting)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(referral, "question_open_since", waiting)
    if not from_desk:
        notify.tell_the_desk("desk_question", referral)
    db.session.flush()
    webhooks.emit(webhooks.Event.MESSAGE_CREATED, referral, message_id=message.id)
    return message


def acknowledge_all(actor: Actor, incident_id: int) -> list[Referral]:
    """Acknowledge, in one go, every referral of an incident sent to the partner's agency that
    still waits for it. NotFound if the agency holds none of the incident's referrals."""
    done = []
    for referral in of_incident_for_partner(actor, incident_id):
        if referral.can(Transition.ACKNOWLEDGE):
            done.append(acknowledge(actor, referral.id))
    return done


def decide_many(
    actor: Actor, incident_id: int, choices: dict[int, tuple[str, str]]
) -> list[Referral]:
    """Record the partner's decisions on several referrals of one incident, each acknowledged
    on the way if it was not. Every problem is reported before anything is saved."""
    mine = {r.id: r for r in of_incident_for_partner(actor, incident_id)}
    errors: dict[str, str] = {}
    wanted = {rid: pick for rid, pick in choices.items() if pick[0] or pick[1].strip()}
    if not wanted:
        raise InvalidInput({"decisions": "Choose a decision for at least one child"})
    limit = text_limit(Referral.decision_note_sealed_id)
    for rid, (outcome, note) in wanted.items():
        referral = mine.get(rid)
        if referral is None:
            raise NotFound("No such referral")
        try:
            free_text.checked(note, limit, field=f"decision-{rid}-note", label="The note")
        except InvalidInput as invalid:
            errors.update(invalid.errors)
        if outcome not in dict(profile(referral.agency.kind).outcomes):
            errors[f"decision-{rid}-outcome"] = (
                f"{referral.reference}: choose one of the outcomes listed"
            )
        elif not referral.can(Transition.DECIDE) and not referral.can(Transition.ACKNOWLEDGE):
            errors[f"decision-{rid}-outcome"] = (
                f"{referral.reference}: {referral.refusal(Transition.DECIDE)}"
            )
    if errors:
        raise InvalidInput(errors)
    return [
        decide(actor, rid, outcome, note, field=f"decision-{rid}-")
        for rid, (outcome, note) in wanted.items()
    ]


def of_incident_for_partner(actor: Actor, incident_id: int) -> list[Referral]:
    """The partner's agency's referrals on an incident (none withdrawn), by child."""
    referrals = [
        r
        for r in db.session.scalars(
            select(Referral)
            .where(Referral.incident_id == incident_id, Referral.agency_id == actor.agency_id)
            .order_by(Referral.subject_id, Referral.id)
        )
        if policy.can_partner_see_referral(actor.role, actor.agency_id, r)
    ]
    if not referrals:
        raise NotFound("No such incident")
    return referrals


def open_for_desk(actor: Actor, referral_id: int) -> tuple[Referral, DeskView]:
    """The referral as the desk sees it, with the partner's answer (decline reason, decision
    note): opening it is a consultation, audited."""
    referral = for_desk(actor, referral_id)
    opened = identity_store.unseal_many(
        (referral.decline_reason_sealed_id, referral.decision_note_sealed_id)
    )
    audit.record(actor, AuditKind.CONSULTATION, "referral.viewed", "referral", referral.id)
    return referral, DeskView(
        decline_reason=opened.get(referral.decline_reason_sealed_id or ""),
        decision_note=opened.get(referral.decision_note_sealed_id or ""),
    )


@dataclass(frozen=True)
class DeskView:
    """What the desk reads of a partner's answer (sealed at rest)."""

    decline_reason: str | None
    decision_note: str | None


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


@dataclass(frozen=True)
class PartnerEvent:
    """A row of the referral's history as its partner sees it."""

    at: datetime
    action: str
    detail: str | None
    actor_label: str


# History the partner sees with its detail; others are shown without (a pause's reason, an
# escalation's recipients are the desk's own notes).
_DETAIL_FOR_PARTNERS = frozenset({"sent", "decided", "declined", "deadline extended", "resumed"})
_HIDDEN = {MOVES[t].history for t in Transition if not MOVES[t].partner_sees}


def partner_history(referral: Referral) -> list[PartnerEvent]:
    """The history without the desk's internal work, and without its people's addresses: the
    desk is "the desk"; a colleague at the partner's agency is named."""
    rows = [e for e in history(referral) if e.action not in _HIDDEN]
    ids = {e.actor_id for e in rows if e.actor_id}
    colleagues = (
        {
            u.id: u.display_name
            for u in db.session.scalars(select(User).where(User.id.in_(ids)))
            if u.agency_id == referral.agency_id
        }
        if ids
        else {}
    )
    shown = []
    for e in rows:
        if e.action == MOVES[Transition.ESCALATE].history:
            if (e.detail or "").startswith(EscalationStep.SUPERVISOR.label):
                continue  # the desk's own escalation to its supervisors
            detail = (e.detail or "").split(" (")[0] or None
        else:
            detail = e.detail if e.action in _DETAIL_FOR_PARTNERS else None
        who = colleagues.get(e.actor_id or 0, "The desk")
        shown.append(PartnerEvent(e.at, e.action, detail, who))
    return shown


def history(referral: Referral) -> list[ReferralEvent]:
    return list(
        db.session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at, ReferralEvent.id)
        )
    )
