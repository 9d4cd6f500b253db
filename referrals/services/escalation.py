"""The escalation ladder, swept by the scheduler: exactly one effect per step per referral.

A step is claimed by a compare-and-set UPDATE on ``escalation_level`` and its effects (the
escalation row, the referral's history, the e-mails in the outbox, the audit event) are written
in the same transaction. Two schedulers racing: one claim wins. A scheduler killed mid-sweep:
its transaction rolls back and the next sweep takes the step. A scheduler down for an hour: the
next sweep finds every step whose time has passed and takes each once, in order.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import select, update

from referrals.calendars import WorkingCalendar
from referrals.extensions import db
from referrals.models.audit import AuditKind
from referrals.models.escalation import Escalation, EscalationPolicy, EscalationStep
from referrals.models.incident import RiskGrade
from referrals.models.referral import AWAITING, Referral, ReferralEvent
from referrals.models.user import Role, User
from referrals.services import audit, deadlines, notify
from referrals.services.actors import Actor

STEPS = list(EscalationStep)
DEFAULT_HOURS = {
    EscalationStep.REMINDER: 0,
    EscalationStep.DUTY_MANAGER: 2,
    EscalationStep.SUPERVISOR: 4,
}
DESK_CALENDAR = WorkingCalendar()


def _ladder() -> dict[EscalationStep, int]:
    hours = dict(DEFAULT_HOURS)
    for policy in db.session.scalars(select(EscalationPolicy)):
        hours[policy.step] = policy.hours_after_due
    return hours


def step_time(
    referral: Referral, level: int, ladder: dict[EscalationStep, int] | None = None
) -> datetime | None:
    """When step ``level`` (0-based) is due: working hours after the due time, on the agency's
    calendar; high-risk referrals count elapsed hours and may escalate out of hours."""
    if level >= len(STEPS):
        return None
    hours = (ladder or _ladder())[STEPS[level]]
    if referral.incident.risk_grade is RiskGrade.HIGH:
        return referral.due_at + timedelta(hours=hours)
    working, _ = deadlines.calendars_for(referral.agency, referral.due_at.date())
    return working.add_working(referral.due_at, timedelta(hours=hours))


def _not_before(referral: Referral, calendar: WorkingCalendar, now: datetime) -> datetime:
    """Quiet hours: no e-mail outside the recipient's working hours, except for high risk."""
    if referral.incident.risk_grade is RiskGrade.HIGH:
        return now
    return calendar.next_working_moment(now)


def crash_point(name: str) -> None:
    """Fault injection for the process tests only: REFERRALS_FAULT names a point to die at."""
    if os.environ.get("REFERRALS_FAULT") == name:
        os._exit(75)


def _take(referral: Referral, step: EscalationStep, worker: str, now: datetime) -> Escalation:
    ladder_actor = Actor.system(f"scheduler:{worker}")
    recipients: list[str] = []
    agency = referral.agency
    working, _ = deadlines.calendars_for(agency, now.date())
    if step is EscalationStep.SUPERVISOR:
        supervisors = db.session.scalars(
            select(User.email).where(User.role == Role.SUPERVISOR, User.active.is_(True))
        ).all()
        not_before = _not_before(referral, DESK_CALENDAR, now)
        for email in supervisors:
            notify.queue("supervisor", email, referral, not_before=not_before)
            recipients.append(email)
    else:
        address = (
            agency.notice_email
            if step is EscalationStep.REMINDER
            else (agency.duty_manager_email or agency.notice_email)
        )
        if address:
            notify.queue(
                step.value, address, referral, not_before=_not_before(referral, working, now)
            )
            recipients.append(address)
    escalation = Escalation(
        referral_id=referral.id,
        step=step,
        at=now,
        recipients=", ".join(recipients) or "nobody: no address on record",
        by=worker,
    )
    db.session.add(escalation)
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            actor_id=None,
            actor_label=ladder_actor.label,
            action=step.label.lower(),
            detail=f"to {escalation.recipients}",
        )
    )
    audit.record(
        ladder_actor,
        AuditKind.DISCLOSURE if recipients else AuditKind.ALTERATION,
        f"referral.escalated.{step.value}",
        "referral",
        referral.id,
        recipients=recipients or None,
    )
    return escalation


def sweep_batch(worker: str, now: datetime, batch: int = 100) -> int:
    """Take every escalation step that is due, for up to ``batch`` referrals. Returns how many
    steps this worker took. The caller commits (one transaction per batch)."""
    ladder = _ladder()
    due = db.session.execute(
        select(Referral.id, Referral.escalation_level)
        .where(
            Referral.next_escalation_at <= now,
            Referral.state.in_(AWAITING),
            Referral.paused_at.is_(None),
        )
        .order_by(Referral.next_escalation_at, Referral.id)
        .limit(batch)
    ).all()
    taken = 0
    for referral_id, level in due:
        referral = db.session.get(Referral, referral_id)
        if referral is None:
            continue
        # Several steps may be due at once (a scheduler that was down): take them in order.
        while level < len(STEPS):
            at = step_time(referral, level, ladder)
            if at is None or at > now:
                break
            following = step_time(referral, level + 1, ladder)
            claimed = db.session.execute(
                update(Referral)
                .where(
                    Referral.id == referral_id,
                    Referral.escalation_level == level,
                    Referral.state.in_(AWAITING),
                    Referral.paused_at.is_(None),
                )
                .values(escalation_level=level + 1, next_escalation_at=following)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                break  # another scheduler took it
            crash_point("sweep.after_claim")
            _take(referral, STEPS[level], worker, now)
            taken += 1
            level += 1
        db.session.flush()
    return taken


def reschedule(referral: Referral) -> None:
    """After a change of due time (resume, extension): the next step's time follows it."""
    referral.next_escalation_at = step_time(referral, referral.escalation_level)


def first_step(referral: Referral) -> datetime | None:
    return step_time(referral, 0)
