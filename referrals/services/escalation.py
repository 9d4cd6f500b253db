"""The escalation ladder, swept by the scheduler: exactly one effect per step per clock.

A referral's running clock (acknowledgement, then decision) climbs the ladder of its agency's
kind: a reminder at the due time itself, the duty manager and then the desk supervisors some
working hours later (elapsed hours for high risk). Each step is the move ``escalate`` of the one
transition table, a compare-and-set on the referral's version, with its effects (the escalation
row, the e-mails in the outbox, the history row, the audit event) in the same transaction. Two
schedulers racing: one claim wins. A scheduler killed mid-sweep: its transaction rolls back and
the next sweep takes the step. A scheduler down for an hour: the next sweep finds every step
whose time has passed and takes each once, in order.

The desk's own deadlines (triage, Operation Encompass share-by) escalate to the supervisors once
each, for an incident not yet sent, by a claim on the incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from referrals.calendars import WorkingCalendar
from referrals.extensions import db
from referrals.faults import crash_point
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditKind
from referrals.models.escalation import (
    DeskEscalation,
    Escalation,
    EscalationPolicy,
    EscalationStep,
)
from referrals.models.incident import DeskClock, Incident, IncidentStatus, RiskGrade
from referrals.models.referral import OPEN_STATES, Referral, Transition
from referrals.models.user import Role, User
from referrals.profiles import PROFILES
from referrals.services import audit, deadlines, notify, transitions
from referrals.services.actors import Actor
from referrals.services.transitions import Refused

STEPS = list(EscalationStep)
Ladders = Mapping[AgencyKind, Mapping[EscalationStep, int]]


def ladders() -> dict[AgencyKind, dict[EscalationStep, int]]:
    """Hours after the due time per step, per kind: the policies, over the profiles' defaults."""
    found = {kind: dict(p.ladder) for kind, p in PROFILES.items()}
    for policy in db.session.scalars(select(EscalationPolicy)):
        found[policy.agency_kind][policy.step] = policy.hours_after_due
    return found


def step_time(
    due: datetime | None,
    level: int,
    hours: Mapping[EscalationStep, int],
    *,
    high_risk: bool,
    working: WorkingCalendar,
) -> datetime | None:
    """When step ``level`` (0-based) of a clock due at ``due`` is taken; None when the ladder
    has no such step. A step of 0 hours (the reminder) is at the due time itself, whatever the
    hours; later steps count working hours after it, or elapsed hours for high risk. Pure: the
    sweep and the synthetic generator both use it."""
    if due is None or level >= len(STEPS) or STEPS[level] not in hours:
        return None
    after = timedelta(hours=hours[STEPS[level]])
    if not after or high_risk:
        return due + after
    return working.add_working(due, after)


def next_step(
    referral: Referral, due: datetime | None, level: int, known: Ladders | None = None
) -> datetime | None:
    """When the referral's clock, due at ``due``, takes step ``level``."""
    if due is None:
        return None
    working, _ = deadlines.calendars_for(referral.agency, due)
    return step_time(
        due,
        level,
        (known or ladders())[referral.agency.kind],
        high_risk=referral.incident.risk_grade is RiskGrade.HIGH,
        working=working,
    )


def _supervisors() -> list[str]:
    return list(
        db.session.scalars(
            select(User.email)
            .where(User.role == Role.SUPERVISOR, User.active.is_(True))
            .order_by(User.id)
        )
    )


def _recipients(referral: Referral, step: EscalationStep) -> list[str]:
    agency = referral.agency
    if step is EscalationStep.SUPERVISOR:
        return _supervisors()
    address = (
        agency.notice_email
        if step is EscalationStep.REMINDER
        else (agency.duty_manager_email or agency.notice_email)
    )
    return [address] if address else []


def _escalate(
    referral: Referral,
    step: EscalationStep,
    following: datetime | None,
    worker: str,
    now: datetime,
) -> bool:
    """Take one step (claim, then its effects). False if another scheduler took it first."""
    actor = Actor.system(f"scheduler:{worker}")
    running = referral.running_clock
    recipients = _recipients(referral, step)
    shown = ", ".join(recipients) or "nobody: no address on record"
    waiting = notify.WAITING[running] if running else "deadline"
    try:
        transitions.apply(
            actor,
            referral,
            Transition.ESCALATE,
            values={
                "escalation_level": referral.escalation_level + 1,
                "next_escalation_at": following,
            },
            detail=f"{step.label} ({waiting}), to {shown}",
            recipients=recipients or None,
            audit_kind=AuditKind.DISCLOSURE if recipients else AuditKind.ALTERATION,
            audit_action=f"referral.escalated.{step.value}",
            audit_detail={"clock": running.value if running else None},
        )
    except Refused:
        return False  # another scheduler, or a partner, moved it first
    crash_point("sweep.after_claim")  # a test dies here: claimed, effects not yet written
    if running is None:
        return True
    db.session.add(
        Escalation(
            referral_id=referral.id, clock=running, step=step, at=now, recipients=shown, by=worker
        )
    )
    template = step.value
    if step is EscalationStep.SUPERVISOR:
        working = deadlines.desk_calendar()
    else:
        working, _ = deadlines.calendars_for(referral.agency, now)
    not_before = deadlines.notice_time(
        referral.agency, referral.incident.risk_grade, None, now, working
    )
    for address in recipients:
        notify.queue(template, address, referral, not_before=not_before)
    return True


def sweep_batch(worker: str, now: datetime, batch: int = 100) -> int:
    """Take every escalation step that is due, for up to ``batch`` referrals. Returns how many
    steps this worker took. The caller commits (one transaction per batch)."""
    known = ladders()
    due = db.session.scalars(
        select(Referral.id)
        .where(
            Referral.next_escalation_at <= now,
            Referral.state.in_(OPEN_STATES),
            Referral.paused_at.is_(None),
        )
        .order_by(Referral.next_escalation_at, Referral.id)
        .limit(batch)
    ).all()
    taken = 0
    for referral_id in due:
        referral = db.session.get(Referral, referral_id)
        if referral is None:
            continue
        # Several steps may be due at once (a scheduler that was down): take them in order.
        while True:
            level, clock_due = referral.escalation_level, referral.clock_due_at
            at = next_step(referral, clock_due, level, known)
            if at is None or at > now:
                break
            if not _escalate(
                referral,
                STEPS[level],
                next_step(referral, clock_due, level + 1, known),
                worker,
                now,
            ):
                break
            taken += 1
        db.session.flush()
    return taken


def sweep_desk(worker: str, now: datetime, batch: int = 100) -> int:
    """The desk's own deadlines: each incident not sent by its triage or share-by deadline is
    escalated to the supervisors once per deadline. Returns how many were escalated."""
    overdue = db.session.scalars(
        select(Incident)
        .where(
            Incident.status == IncidentStatus.LOGGED,
            or_(
                and_(Incident.triage_escalated_at.is_(None), Incident.triage_due_at <= now),
                and_(Incident.share_escalated_at.is_(None), Incident.share_by_at <= now),
            ),
        )
        .order_by(Incident.triage_due_at, Incident.id)
        .limit(batch)
    ).all()
    taken = 0
    for incident in overdue:
        for desk_clock, due, column in (
            (DeskClock.SHARE_BY, incident.share_by_at, Incident.share_escalated_at),
            (DeskClock.TRIAGE, incident.triage_due_at, Incident.triage_escalated_at),
        ):
            if due is not None and due <= now and _claim_desk(incident, column, now):
                _escalate_desk(incident, desk_clock, worker, now)
                taken += 1
    db.session.flush()
    return taken


def _claim_desk(incident: Incident, column: object, now: datetime) -> bool:
    claimed = db.session.execute(
        update(Incident)
        .where(
            Incident.id == incident.id,
            Incident.status == IncidentStatus.LOGGED,
            column.is_(None),  # type: ignore[attr-defined]
        )
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def _escalate_desk(incident: Incident, desk_clock: DeskClock, worker: str, now: datetime) -> None:
    recipients = _supervisors()
    shown = ", ".join(recipients) or "nobody: no supervisor on record"
    db.session.add(
        DeskEscalation(
            incident_id=incident.id, clock=desk_clock, at=now, recipients=shown, by=worker
        )
    )
    # Operation Encompass: the school day is about to start, so the supervisors hear at once;
    # a missed triage waits for the desk's working hours unless the risk is high.
    if desk_clock is DeskClock.SHARE_BY or incident.risk_grade is RiskGrade.HIGH:
        not_before = now
    else:
        not_before = deadlines.desk_calendar().next_working_moment(now)
    context = notify.incident_context(incident, desk_clock)
    for address in recipients:
        notify.queue_context(address, context, not_before=not_before)
    audit.record(
        Actor.system(f"scheduler:{worker}"),
        AuditKind.DISCLOSURE if recipients else AuditKind.ALTERATION,
        f"incident.escalated.{desk_clock.value}",
        "incident",
        incident.id,
        recipients=recipients or None,
    )
