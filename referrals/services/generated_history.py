"""What happens to a generated referral after the desk sends it: partners who acknowledge on
time (67%), late (20%), decline (3%: the desk accepts the decline later) or never (10%: the
ladder runs, and the desk withdraws it a fortnight later), a decision after most
acknowledgements (the desk notes it later), and the decision clock's own ladder.

Every state a history passes through comes from the one transition table (``Move.target_from``
refuses a move the desk could not make), every history label and audit action from the same
table, and every ladder step's time from :func:`referrals.services.escalation.step_time`: a
generated history is one the desk could have produced, written in bulk.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from referrals.calendars import WorkingCalendar
from referrals.models.agency import Agency
from referrals.models.audit import AuditKind
from referrals.models.deadlines import DeadlineClock
from referrals.models.escalation import EscalationStep
from referrals.models.referral import MOVES, ReferralState, Transition
from referrals.profiles import profile
from referrals.services import escalation, notify

ACTOR = "system:generator"
STALE_AFTER = timedelta(days=14)  # the desk withdraws what a partner never answered
Rows = dict[str, list[dict[str, Any]]]


class Ids:
    """The next id of each table the generator fills (it assigns them itself, in bulk)."""

    def __init__(self, start: Mapping[str, int]) -> None:
        self.values = dict(start)

    def next(self, table: str) -> int:
        self.values[table] += 1
        return self.values[table]


def audit_row(
    rows: Rows,
    at: datetime,
    kind: AuditKind,
    action: str,
    record_type: str,
    record_id: int,
    *,
    agency_id: int | None = None,
    recipients: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An audit event without its place in the chain: the writer adds ``seq``, ``prev_hash``
    and ``hash`` where it extends the chain (:func:`referrals.services.bulk_load.write_batch`)."""
    rows["audit_events"].append(
        {
            "occurred_at": at,
            "actor_id": None,
            "actor_label": ACTOR,
            "agency_id": agency_id,
            "kind": kind.value,
            "action": action,
            "record_type": record_type,
            "record_id": str(record_id),
            "recipients": recipients,
            "reason": None,
            "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")) if detail else None,
        }
    )


@dataclass
class Referral:
    """One generated referral while its history is played: the row and where it stands."""

    row: dict[str, Any]
    agency: Agency
    high_risk: bool
    working: WorkingCalendar

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def state(self) -> ReferralState:
        return ReferralState(self.row["state"])


Seal = Callable[[str, str, datetime], "str | None"]
DECLINE_WORDS = "Synthetic: the safeguarding lead explained why on the phone."


class Timeline:
    """Plays referral histories into ``rows``, up to the moment ``now``. ``seal`` seals a
    partner's words as the identity store does, returning the sealed value's id."""

    def __init__(
        self,
        rng: random.Random,
        rows: Rows,
        ids: Ids,
        ladders: escalation.Ladders,
        supervisors: list[str],
        now: datetime,
        seal: Seal,
    ) -> None:
        self.rng, self.rows, self.ids = rng, rows, ids
        self.ladders, self.supervisors, self.now = ladders, supervisors, now
        self.seal = seal

    def move(
        self,
        ref: Referral,
        transition: Transition,
        at: datetime,
        values: Mapping[str, Any] | None = None,
        *,
        detail: str | None = None,
        partner: bool = False,
        audit_action: str | None = None,
        recipients: str | None = None,
        audit_detail: dict[str, Any] | None = None,
    ) -> None:
        """Make a move of the table on the row, with its history row and audit event."""
        move = MOVES[transition]
        ref.row["state"] = move.target_from(ref.state).value
        ref.row.update(values or {})
        if move.versioned:
            ref.row["version"] += 1
        if move.partner_sees:
            ref.row["updated_at"] = at
        self._history(ref, at, move.history, detail)
        if move.audit is not None:
            audit_row(
                self.rows,
                at,
                move.audit_kind,
                audit_action or f"referral.{move.audit}",
                "referral",
                ref.id,
                agency_id=ref.agency.id if partner else None,
                recipients=recipients,
                detail=audit_detail,
            )

    def _history(self, ref: Referral, at: datetime, action: str, detail: str | None) -> None:
        self.rows["referral_events"].append(
            {
                "id": self.ids.next("referral_events"),
                "referral_id": ref.id,
                "at": at,
                "actor_id": None,
                "actor_label": ACTOR,
                "action": action,
                "detail": detail,
            }
        )

    def sent(self, ref: Referral, detail: str, audit_detail: dict[str, Any]) -> None:
        move = MOVES[Transition.SEND]
        at = ref.row["sent_at"]
        self._history(ref, at, move.history, detail)
        audit_row(
            self.rows,
            at,
            move.audit_kind,
            f"referral.{move.audit}",
            "referral",
            ref.id,
            recipients=ref.agency.code,
            detail=audit_detail,
        )

    def opened(self, ref: Referral, at: datetime) -> None:
        """The partner opens it: a disclosure, and the first opening makes it viewed."""
        audit_row(
            self.rows,
            at,
            AuditKind.DISCLOSURE,
            "referral.opened",
            "referral",
            ref.id,
            agency_id=ref.agency.id,
            recipients=ref.agency.code,
        )
        if ref.state is ReferralState.SENT:
            self.move(ref, Transition.VIEW, at, {"viewed_at": at}, partner=True)

    def climb(self, ref: Referral, running: DeadlineClock, until: datetime) -> None:
        """Take each ladder step of the running clock whose time is before ``until``, as the
        sweep would have; leave the row's level and next step as the sweep would find them."""
        due = ref.row["clock_due_at"]
        hours = self.ladders[ref.agency.kind]
        while True:
            level = ref.row["escalation_level"]
            at = escalation.step_time(
                due, level, hours, high_risk=ref.high_risk, working=ref.working
            )
            if at is None or at >= until:
                return
            step = escalation.STEPS[level]
            to = self._recipients(ref.agency, step)
            shown = ", ".join(to) or "nobody: no address on record"
            following = escalation.step_time(
                due, level + 1, hours, high_risk=ref.high_risk, working=ref.working
            )
            self.move(
                ref,
                Transition.ESCALATE,
                at,
                {"escalation_level": level + 1, "next_escalation_at": following},
                detail=f"{step.label} ({notify.WAITING[running]}), to {shown}",
                audit_action=f"referral.escalated.{step.value}",
                recipients=", ".join(to) or None,
            )
            self.rows["escalations"].append(
                {
                    "id": self.ids.next("escalations"),
                    "referral_id": ref.id,
                    "clock": running.value,
                    "step": step.value,
                    "at": at,
                    "recipients": shown,
                    "by": "generator",
                }
            )

    def _recipients(self, agency: Agency, step: EscalationStep) -> list[str]:
        if step is EscalationStep.SUPERVISOR:
            return self.supervisors
        address = (
            agency.notice_email
            if step is EscalationStep.REMINDER
            else agency.duty_manager_email or agency.notice_email
        )
        return [address] if address else []

    def play(self, ref: Referral) -> None:
        """The partner's part, decided by chance, up to now."""
        rng, now = self.rng, self.now
        sent, due = ref.row["sent_at"], ref.row["due_at"]
        behaviour = rng.random()
        if due >= now:  # the acknowledgement clock is still running: perhaps opened
            if rng.random() < 0.5:
                self.opened(ref, sent + (now - sent) * rng.random())
            return
        if 0.87 <= behaviour < 0.9:  # declined, and the desk accepts the decline later
            self._declined(ref, sent + (due - sent) * rng.random() * 1.5)
            return
        if behaviour >= 0.9:  # never: the ladder runs its course, then the desk withdraws it
            self.opened(ref, sent + (due - sent) * rng.random())
            closed = due + STALE_AFTER
            self.climb(ref, DeadlineClock.ACKNOWLEDGE, min(closed, now))
            if closed < now:
                self.move(
                    ref,
                    Transition.WITHDRAW,
                    closed,
                    {
                        "withdrawn_at": closed,
                        "clock_due_at": None,
                        "next_escalation_at": None,
                    },
                    detail=None,
                )
            return
        ack = (
            sent + (due - sent) * rng.random()
            if behaviour < 0.67
            else due + timedelta(hours=rng.uniform(0.5, 48))
        )
        ack = min(ack, now)
        self.climb(ref, DeadlineClock.ACKNOWLEDGE, ack)
        self.opened(ref, ack)
        self._acknowledged(ref, ack)

    def _acknowledged(self, ref: Referral, ack: datetime) -> None:
        rng, now = self.rng, self.now
        decision_due = ref.row["decision_due_at"]
        self.move(
            ref,
            Transition.ACKNOWLEDGE,
            ack,
            {
                "acknowledged_at": ack,
                "clock_due_at": decision_due,
                "escalation_level": 0,
                "next_escalation_at": escalation.step_time(
                    decision_due,
                    0,
                    self.ladders[ref.agency.kind],
                    high_risk=ref.high_risk,
                    working=ref.working,
                ),
            },
            partner=True,
        )
        decided = ack + timedelta(hours=rng.uniform(1, 72))
        will_decide = rng.random() < 0.85
        until = min(decided, now) if will_decide else now
        if decision_due is not None:
            self.climb(ref, DeadlineClock.DECISION, until)
        if will_decide and decided < now:
            code, label = rng.choice(profile(ref.agency.kind).outcomes)
            self.move(
                ref,
                Transition.DECIDE,
                decided,
                {
                    "decided_at": decided,
                    "decision": code,
                    "clock_due_at": None,
                    "next_escalation_at": None,
                },
                detail=label,
                partner=True,
                audit_detail={"outcome": code},
            )
            seen = decided + timedelta(hours=rng.uniform(0.5, 36))
            if seen < now:  # the desk notes the decision; recent ones still wait for it
                self.move(ref, Transition.MARK_SEEN, seen, {"decision_seen_at": seen})

    def _declined(self, ref: Referral, at: datetime) -> None:
        at = min(at, self.now)
        self.climb(ref, DeadlineClock.ACKNOWLEDGE, at)
        self.opened(ref, at)
        code, label = self.rng.choice(profile(ref.agency.kind).decline_reasons)
        self.move(
            ref,
            Transition.DECLINE,
            at,
            {
                "declined_at": at,
                "decline_category": code,
                "decline_reason_sealed_id": self.seal("referral.decline_reason", DECLINE_WORDS, at),
                "clock_due_at": None,
                "next_escalation_at": None,
            },
            detail=label,
            partner=True,
            audit_detail={"category": code},
        )
        dealt = at + timedelta(hours=self.rng.uniform(1, 30))
        if dealt < self.now:
            self.move(ref, Transition.ACCEPT_DECLINE, dealt, {"decline_dealt_at": dealt})
