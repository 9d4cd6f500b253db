"""Applying a referral's moves: the one function that changes a referral's state and writes its
history and its audit event, in the caller's transaction.

Each move is named once, with the states it may start from, in
:data:`referrals.models.referral.MOVES`. A move that changes the referral is a compare-and-set
UPDATE on ``state`` and ``version`` (and the pause it needs), so two people acting at once
cannot both win, on SQLite or PostgreSQL; the loser is told who got there first. A move the
table does not allow from where the referral is changes nothing and says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditKind
from referrals.models.incident import Incident, IncidentStatus
from referrals.models.referral import (
    MOVES,
    OPEN_STATES,
    Move,
    Referral,
    ReferralEvent,
    Transition,
    need_holds,
)
from referrals.models.user import User
from referrals.services import audit, webhooks
from referrals.services.actors import Actor
from referrals.services.errors import DomainError
from referrals.services.webhooks import Event


class Refused(DomainError):
    """The move cannot start from where the referral is. The message says why, and who got there
    first when someone did."""


def check(referral: Referral, transition: Transition) -> None:
    """Refuse a move that cannot start from where the referral is, before anyone's input is
    read: a form for a move the page no longer offers is answered with why, not its errors."""
    problem = referral.refusal(transition)
    if problem is not None:
        raise Refused(_explained(referral, transition, problem))


def apply(
    actor: Actor,
    referral: Referral,
    transition: Transition,
    *,
    values: Mapping[str, Any] | None = None,
    detail: str | None = None,
    reason: str | None = None,
    recipients: Iterable[str] | None = None,
    audit_detail: dict[str, Any] | None = None,
    audit_kind: AuditKind | None = None,
    audit_action: str | None = None,
) -> None:
    """Make the move: check the table, compare-and-set, then the history row (``detail``) and
    the audit event (``reason``, ``recipients``, ``audit_detail``; kind and action from the
    table unless given). ``values`` are the other columns the move sets. Raises
    :class:`Refused`, having changed nothing."""
    move = MOVES[transition]
    check(referral, transition)
    changed = dict(values or {})
    if move.partner_sees:
        changed.setdefault("updated_at", clock.now())
    if move.versioned:
        _compare_and_set(referral, transition, changed)
    elif values:
        raise ValueError(f"{transition.value} records only; it sets no columns")
    elif move.partner_sees:  # a record the partner sees (a message): the referral changed
        db.session.execute(
            update(Referral)
            .where(Referral.id == referral.id)
            .values(updated_at=changed["updated_at"])
            .execution_options(synchronize_session=False)
        )
        set_committed_value(referral, "updated_at", changed["updated_at"])
    _recorded(
        actor,
        [referral],
        transition,
        detail=detail,
        reason=reason,
        recipients=recipients,
        audit_detail=audit_detail,
        audit_kind=audit_kind,
        audit_action=audit_action,
    )


def apply_many(
    actor: Actor,
    referrals: Iterable[Referral],
    transition: Transition,
    *,
    values: Mapping[str, Any] | None = None,
) -> list[Referral]:
    """Make one move on several referrals with one compare-and-set UPDATE (a partner opening an
    incident's referrals together marks each viewed). Those the move cannot start from, or that
    someone changed a moment ago, are left as they are; returns those moved."""
    move = MOVES[transition]
    if not move.versioned:
        raise ValueError(f"{transition.value} changes no state: apply it to each referral")
    candidates = {r.id: r for r in referrals if r.can(transition)}
    if not candidates:
        return []
    changed = dict(values or {})
    if move.partner_sees:
        changed.setdefault("updated_at", clock.now())
    if move.target is not None:
        changed["state"] = move.target
    conditions = [
        or_(
            *(and_(Referral.id == r.id, Referral.version == r.version) for r in candidates.values())
        ),
        *_move_conditions(move),
    ]
    moved_ids = db.session.scalars(
        update(Referral)
        .where(*conditions)
        .values(**changed, version=Referral.version + 1)
        .returning(Referral.id)
        .execution_options(synchronize_session=False)
    ).all()
    moved = [candidates[i] for i in sorted(moved_ids)]
    for referral_id in candidates.keys() - set(moved_ids):
        db.session.refresh(candidates[referral_id])  # someone moved it first: show where it is
    for referral in moved:
        for key, value in changed.items():
            set_committed_value(referral, key, value)
        set_committed_value(referral, "version", referral.version + 1)
    _recorded(actor, moved, transition)
    return moved


def _recorded(
    actor: Actor,
    referrals: list[Referral],
    transition: Transition,
    *,
    detail: str | None = None,
    reason: str | None = None,
    recipients: Iterable[str] | None = None,
    audit_detail: dict[str, Any] | None = None,
    audit_kind: AuditKind | None = None,
    audit_action: str | None = None,
) -> None:
    """What every move writes once its referrals have moved: each one's history row and audit
    event (the events written together, ``audit.together``), the partners' webhook
    events, and the incident closed when its last referral closes."""
    move = MOVES[transition]
    record_history(referrals, actor, move.history, detail)
    if move.audit is not None:
        with audit.together():
            for referral in referrals:
                audit.record(
                    actor,
                    audit_kind or move.audit_kind,
                    audit_action or f"referral.{move.audit}",
                    "referral",
                    referral.id,
                    reason=reason,
                    recipients=list(recipients) if recipients else None,
                    detail=audit_detail,
                )
    if move.partner_sees:
        withdrawn = transition is Transition.WITHDRAW
        webhooks.emit_many(
            Event.REFERRAL_WITHDRAWN if withdrawn else Event.REFERRAL_UPDATED, referrals
        )
    if move.target is not None and move.target.closed:
        for incident_id in dict.fromkeys(r.incident_id for r in referrals):
            _close_incident_if_done(incident_id)


def created(actor: Actor, referral: Referral, *, detail: str, audit_detail: dict[str, Any]) -> None:
    """The referral's first move (it was just inserted in state ``sent``): its history and the
    disclosure to its agency."""
    move = MOVES[Transition.SEND]
    record_history([referral], actor, move.history, detail)
    audit.record(
        actor,
        move.audit_kind,
        f"referral.{move.audit}",
        "referral",
        referral.id,
        recipients=[referral.agency.code],
        detail=audit_detail,
    )
    webhooks.emit(Event.REFERRAL_CREATED, referral)


def record_history(
    referrals: Iterable[Referral], actor: Actor, action: str, detail: str | None = None
) -> None:
    """The one place a referral's history rows are written: one INSERT for all of them."""
    at = clock.now()
    rows = [
        {
            "referral_id": referral.id,
            "at": at,
            "actor_id": actor.user_id,
            "actor_label": actor.label,
            "action": action,
            "detail": detail,
        }
        for referral in referrals
    ]
    if rows:
        db.session.execute(insert(ReferralEvent), rows)


def _compare_and_set(referral: Referral, transition: Transition, values: dict[str, Any]) -> None:
    move = MOVES[transition]
    if move.target is not None:
        values["state"] = move.target
    conditions = [
        Referral.id == referral.id,
        Referral.version == referral.version,
        *_move_conditions(move),
    ]
    result = db.session.execute(
        update(Referral)
        .where(*conditions)
        .values(**values, version=Referral.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(referral)
        problem = referral.refusal(transition)
        raise Refused(
            _explained(referral, transition, problem)
            if problem
            else "Someone changed this referral a moment ago: reload the page and try again"
        )
    # The row now holds exactly these values: say so to the session rather than read it back.
    for key, value in values.items():
        set_committed_value(referral, key, value)
    set_committed_value(referral, "version", referral.version + 1)


def _move_conditions(move: Move) -> list[ColumnElement[bool]]:
    """What must hold of a referral, besides its id and version, for ``move`` to start."""
    conditions: list[ColumnElement[bool]] = [Referral.state.in_(move.sources)]
    if move.paused is not None:
        conditions.append(
            Referral.paused_at.is_not(None) if move.paused else Referral.paused_at.is_(None)
        )
    if move.needs is not None:
        conditions.append(need_holds(move.needs))
    return conditions


# The moves someone may already have made, and the columns that say who and when.
_DONE = {
    Transition.ACKNOWLEDGE: ("acknowledged_at", "acknowledged_by_id", "Already acknowledged"),
    Transition.DECIDE: ("decided_at", "decided_by_id", "A decision was already recorded"),
    Transition.DECLINE: ("declined_at", "declined_by_id", "Already declined"),
}


def _explained(referral: Referral, transition: Transition, problem: str) -> str:
    """A refusal, with who did it and when where the move was already made by someone."""
    if transition not in _DONE:
        return problem
    at_column, by_column, words = _DONE[transition]
    at: datetime | None = getattr(referral, at_column)
    if at is None:
        return problem
    who = _who(getattr(referral, by_column))
    return f"{words} by {who} at {clock.to_london(at):%H:%M on %-d %b %Y}"


def _who(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else "someone"


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
