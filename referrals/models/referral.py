"""Referrals: one per subject (a child, or a victim for MARAC) per partner agency, and the one
table of the moves a referral can make.

Every move a referral makes is named once in :data:`MOVES` with the states it may start from.
:func:`referrals.services.transitions.apply` is the only code that applies one (compare-and-set,
history row, audit event); pages ask :meth:`Referral.can`; the synthetic generator plans its
histories with :func:`Move.target_from`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from referrals.db import Base, UTCDateTime, enum_type, intpk, sealed
from referrals.models.agency import Agency
from referrals.models.audit import AuditKind
from referrals.models.deadlines import DeadlineClock
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.routing import RuleCode


class ReferralState(StrEnum):
    SENT = "sent"
    VIEWED = "viewed"
    ACKNOWLEDGED = "acknowledged"
    DECIDED = "decided"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def tag_class(self) -> str:
        return _TAG_CLASSES[self]

    @property
    def awaiting_acknowledgement(self) -> bool:
        return self in AWAITING

    @property
    def closed(self) -> bool:
        return self not in OPEN_STATES


_TAG_CLASSES = {
    ReferralState.SENT: "govuk-tag--blue",
    ReferralState.VIEWED: "govuk-tag--light-blue",
    ReferralState.ACKNOWLEDGED: "govuk-tag--turquoise",
    ReferralState.DECIDED: "govuk-tag--green",
    ReferralState.DECLINED: "govuk-tag--orange",
    ReferralState.WITHDRAWN: "govuk-tag--grey",
}
# "Due soon", on every list that says it: a running clock due within this.
DUE_SOON = timedelta(hours=2)
AWAITING = (ReferralState.SENT, ReferralState.VIEWED)
OPEN_STATES = (ReferralState.SENT, ReferralState.VIEWED, ReferralState.ACKNOWLEDGED)
ANSWERED = (ReferralState.DECIDED, ReferralState.DECLINED)


class Need(StrEnum):
    """A condition beyond the state that a move may need."""

    CLOCK = "clock"  # a deadline is running
    OPEN_DECLINE = "open_decline"  # declined, and the desk has not dealt with it yet
    UNSEEN_DECISION = "unseen_decision"  # decided, and the desk has not marked it seen


_NEED_REFUSALS = {
    Need.CLOCK: "This referral has no deadline running, so it cannot be {verb}",
    Need.OPEN_DECLINE: "The desk has already dealt with this decline",
    Need.UNSEEN_DECISION: "This decision was already marked seen",
}


class Transition(StrEnum):
    SEND = "send"
    VIEW = "view"
    ACKNOWLEDGE = "acknowledge"
    DECIDE = "decide"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"
    REASSIGN = "reassign"
    ESCALATE = "escalate"
    CHASE = "chase"
    RESEND = "resend"
    ASK = "ask"
    ANSWER = "answer"
    ACCEPT_DECLINE = "accept_decline"
    REROUTE = "reroute"
    MARK_SEEN = "mark_seen"


@dataclass(frozen=True)
class Move:
    """One transition: where it may start, where it ends, and what it records.

    ``paused``: the pause the referral must be in (None: either). ``needs``: a condition beyond
    the state (a deadline running, a decline the desk has not dealt with...). ``versioned``: a
    compare-and-set on ``version`` (False: a record that changes no state, such as a message, so
    it never races with a real move)."""

    sources: frozenset[ReferralState]
    history: str
    verb: str  # "acknowledged", for "cannot be acknowledged"
    target: ReferralState | None = None  # None: the state stays as it is
    paused: bool | None = None
    needs: Need | None = None
    versioned: bool = True
    audit: str | None = None  # the audit action, "referral.<audit>"; None: no event of its own
    audit_kind: AuditKind = AuditKind.ALTERATION
    # Whether the partner sees it in the referral's history (the desk's own work, such as a
    # phone call between its staff and another agency, it does not).
    partner_sees: bool = True

    def refusal(
        self, state: ReferralState, paused: bool, facts: frozenset[Need] = frozenset()
    ) -> str | None:
        """Why this move cannot start from here (``facts``: the conditions that hold), in words
        fit to show; None if it can."""
        if state not in self.sources:
            return f"This referral is {state.label.lower()} and cannot be {self.verb}"
        if self.paused is True and not paused:
            return "This referral is not paused"
        if self.paused is False and paused:
            return f"This referral is paused and cannot be {self.verb}: resume it first"
        if self.needs is not None and self.needs not in facts:
            return _NEED_REFUSALS[self.needs].format(verb=self.verb)
        return None

    def target_from(self, state: ReferralState) -> ReferralState:
        """The state after this move (for plans made outside the database: the generator)."""
        if state not in self.sources:
            raise ValueError(f"{state.value} cannot be {self.verb}")
        return self.target or state


_RUNNING = frozenset(OPEN_STATES)
MOVES: dict[Transition, Move] = {
    Transition.SEND: Move(
        frozenset(),
        "sent",
        "sent",
        target=ReferralState.SENT,
        audit="sent",
        audit_kind=AuditKind.DISCLOSURE,
    ),
    Transition.VIEW: Move(
        frozenset({ReferralState.SENT}), "viewed", "viewed", target=ReferralState.VIEWED
    ),
    Transition.ACKNOWLEDGE: Move(
        frozenset(AWAITING),
        "acknowledged",
        "acknowledged",
        target=ReferralState.ACKNOWLEDGED,
        audit="acknowledged",
    ),
    Transition.DECIDE: Move(
        frozenset({ReferralState.ACKNOWLEDGED}),
        "decided",
        "decided",
        target=ReferralState.DECIDED,
        audit="decided",
    ),
    Transition.DECLINE: Move(
        _RUNNING, "declined", "declined", target=ReferralState.DECLINED, audit="declined"
    ),
    Transition.WITHDRAW: Move(
        _RUNNING, "withdrawn", "withdrawn", target=ReferralState.WITHDRAWN, audit="withdrawn"
    ),
    Transition.PAUSE: Move(
        _RUNNING, "paused", "paused", paused=False, needs=Need.CLOCK, audit="paused"
    ),
    Transition.RESUME: Move(_RUNNING, "resumed", "resumed", paused=True, audit="resumed"),
    Transition.EXTEND: Move(
        _RUNNING, "deadline extended", "extended", needs=Need.CLOCK, audit="extended"
    ),
    Transition.REASSIGN: Move(
        _RUNNING, "re-assigned", "re-assigned", audit="reassigned", partner_sees=False
    ),
    Transition.ESCALATE: Move(
        _RUNNING,
        "escalated",
        "escalated",
        paused=False,
        needs=Need.CLOCK,
        audit="escalated",
        audit_kind=AuditKind.DISCLOSURE,
    ),
    Transition.CHASE: Move(
        _RUNNING, "phone chase", "chased", versioned=False, audit="chased", partner_sees=False
    ),
    Transition.RESEND: Move(
        frozenset(AWAITING),
        "notice re-sent",
        "re-sent",
        versioned=False,
        audit="notice_resent",
        audit_kind=AuditKind.DISCLOSURE,
    ),
    Transition.ASK: Move(
        _RUNNING,
        "asked for information",
        "asked about",
        versioned=False,
        audit="message",
        audit_kind=AuditKind.COLLECTION,
    ),
    Transition.ANSWER: Move(
        frozenset((*OPEN_STATES, *ANSWERED)),
        "desk answered",
        "answered",
        versioned=False,
        audit="message",
        audit_kind=AuditKind.DISCLOSURE,
    ),
    Transition.ACCEPT_DECLINE: Move(
        frozenset({ReferralState.DECLINED}),
        "decline accepted",
        "accepted",
        needs=Need.OPEN_DECLINE,
        audit="decline_accepted",
        partner_sees=False,
    ),
    Transition.REROUTE: Move(
        frozenset({ReferralState.DECLINED}),
        "re-routed",
        "re-routed",
        needs=Need.OPEN_DECLINE,
        audit="rerouted",
        partner_sees=False,
    ),
    Transition.MARK_SEEN: Move(
        frozenset({ReferralState.DECIDED}),
        "decision seen by the desk",
        "marked seen",
        needs=Need.UNSEEN_DECISION,
        audit="decision_seen",
        partner_sees=False,
    ),
}


NEEDS_DESK_INDEXES = (
    (
        "ix_referrals_declines_open",
        "declined_at",
        "state = 'declined' AND decline_dealt_at IS NULL",
    ),
    ("ix_referrals_questions_open", "question_open_since", "question_open_since IS NOT NULL"),
    (
        "ix_referrals_decisions_unseen",
        "decided_at",
        "decided_at IS NOT NULL AND decision_seen_at IS NULL",
    ),
)


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("incident_id", "subject_id", "agency_id"),
        Index("ix_referrals_inbox", "agency_id", "sent_at", "id"),
        # Covering: a partner's tab reads each of its states newest first, and the clock's
        # columns answer "due soon" and "overdue" without reading a row.
        Index(
            "ix_referrals_agency_state_sent",
            "agency_id",
            "state",
            "sent_at",
            "id",
            "clock_due_at",
            "paused_at",
        ),
        Index("ix_referrals_updated", "agency_id", "updated_at"),
        # The reports' tallies: a day's referrals, and the days of what moved since a refresh.
        Index("ix_referrals_sent", "sent_at"),
        Index("ix_referrals_changed", "updated_at", "sent_at"),
        # Covering: the board and the tab counts read open work from these alone (with the
        # state in it, the board counts 90,000 open referrals at a million incidents in 30 ms,
        # not 150 ms reading each row for its state).
        Index("ix_referrals_agency_due", "agency_id", "state", "clock_due_at", "paused_at"),
        Index("ix_referrals_due", "clock_due_at", "paused_at", "agency_id", "state"),
        # Covering: an incident's referrals to one agency ("2 children from this incident" on
        # every row of an inbox page), found without walking the agency's whole history.
        Index("ix_referrals_incident_id", "incident_id", "agency_id", "state"),
        Index("ix_referrals_escalation", "next_escalation_at"),
        # Partial: only paused rows, so no plan for "paused_at IS NULL" can pick it.
        Index(
            "ix_referrals_paused",
            "paused_at",
            sqlite_where=text("paused_at IS NOT NULL"),
            postgresql_where=text("paused_at IS NOT NULL"),
        ),
        # "Needs the desk": each list is small, so each has a partial index of its own.
        *(
            Index(name, column, sqlite_where=text(where), postgresql_where=text(where))
            for name, column, where in NEEDS_DESK_INDEXES
        ),
    )

    id: Mapped[intpk]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("incident_people.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    rule_code: Mapped[RuleCode] = mapped_column(enum_type(RuleCode, "rule_code"))
    state: Mapped[ReferralState] = mapped_column(enum_type(ReferralState, "state"))
    known_to_social_care: Mapped[bool] = mapped_column(Boolean, default=False)
    # Optimistic concurrency: every transition is UPDATE ... WHERE id = ? AND version = ?.
    version: Mapped[int] = mapped_column(Integer, default=1)

    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last move a partner could see (for the API's ``updated_since``).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The partner's clocks start when the desk sends: acknowledgement, then (where the agency's
    # kind has one) a decision on next steps. ``clock_due_at`` is the due time of the clock now
    # running (NULL when none runs), so lists read open work from one indexed column.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_rule: Mapped[str] = mapped_column(String(80))
    decision_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_rule: Mapped[str | None] = mapped_column(String(80))
    clock_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The desk's own Operation Encompass duty for a school referral: share before the school's
    # next school day after the desk received the notification; sending later is recorded.
    share_by_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shared_late: Mapped[bool] = mapped_column(Boolean, default=False)
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(40))
    decision_note_sealed_id: Mapped[str | None] = sealed(2000)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decline_category: Mapped[str | None] = mapped_column(String(40))
    decline_reason_sealed_id: Mapped[str | None] = sealed(2000)
    # A decline is the desk's work until it accepts it (with a reason) or re-routes it.
    decline_dealt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_dealt_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rerouted_to_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    # The oldest question from the partner the desk has not answered yet (NULL: none waits).
    question_open_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the desk marked the partner's decision seen (NULL: not yet).
    decision_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pause_reason: Mapped[str | None] = mapped_column(String(500))
    # The escalation ladder of the running clock, swept by the scheduler: the level reached and
    # when the next step is due (NULL when there is none).
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    incident: Mapped[Incident] = relationship(lazy="joined")
    subject: Mapped[IncidentPerson] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")

    @property
    def reference(self) -> str:
        """The referral number used in every e-mail and on every page."""
        return reference_for(self.id)

    @property
    def escalation_label(self) -> str:
        """How far the ladder of the running clock has gone, in the board's words."""
        steps = ("Not yet", "Reminder sent", "Duty manager told", "Escalated to the desk")
        return steps[min(self.escalation_level, len(steps) - 1)]

    @property
    def running_clock(self) -> DeadlineClock | None:
        if self.state in AWAITING:
            return DeadlineClock.ACKNOWLEDGE
        if self.state is ReferralState.ACKNOWLEDGED and self.decision_due_at is not None:
            return DeadlineClock.DECISION
        return None

    @property
    def facts(self) -> frozenset[Need]:
        """The conditions beyond its state that hold for this referral now."""
        held = set()
        if self.clock_due_at is not None:
            held.add(Need.CLOCK)
        if self.state is ReferralState.DECLINED and self.decline_dealt_at is None:
            held.add(Need.OPEN_DECLINE)
        if self.decided_at is not None and self.decision_seen_at is None:
            held.add(Need.UNSEEN_DECISION)
        return frozenset(held)

    def refusal(self, transition: Transition | str) -> str | None:
        move = MOVES[Transition(transition)]
        return move.refusal(self.state, self.paused_at is not None, self.facts)

    def can(self, transition: Transition | str) -> bool:
        """Whether the move may start from the referral as it is (templates ask this)."""
        return self.refusal(transition) is None

    def overdue(self, now: datetime) -> bool:
        return self.clock_due_at is not None and self.paused_at is None and self.clock_due_at < now

    def acknowledged_on_time(self) -> bool | None:
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at <= self.due_at


def need_holds(need: Need) -> ColumnElement[bool]:
    """The condition in SQL, for the compare-and-set that applies a move needing it."""
    return {
        Need.CLOCK: Referral.clock_due_at.is_not(None),
        Need.OPEN_DECLINE: Referral.decline_dealt_at.is_(None),
        Need.UNSEEN_DECISION: Referral.decision_seen_at.is_(None),
    }[need]


def reference_for(referral_id: int) -> str:
    return f"REF-{referral_id:06d}"


# A referral number as people quote it: "REF-000123", "ref 123", "123".
REFERRAL_NUMBER = re.compile(r"^(?:REF)?[\s\-]*0*(\d{1,10})$", re.IGNORECASE)


def id_from_reference(text: str) -> int | None:
    """The referral id a number names (see :func:`reference_for`), or None."""
    match = REFERRAL_NUMBER.match(text.strip())
    if match is None:
        return None
    number = int(match[1])
    return number if 0 < number <= 2**31 - 1 else None


class ReferralEvent(Base):
    """The referral's own history (what the desk and the partner see); the audit trail holds the
    tamper-evident record. Rows are written by :mod:`referrals.services.transitions` only."""

    __tablename__ = "referral_events"

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)  # non-identifying: an outcome, a new due time


class ReferralMessage(Base):
    """A request for more information and its answers, between the partner and the desk."""

    __tablename__ = "referral_messages"

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_label: Mapped[str] = mapped_column(String(254))
    from_desk: Mapped[bool] = mapped_column(Boolean)
    body_sealed_id: Mapped[str] = sealed(2000)


class ReferralNameToken(Base):
    """A keyed hash of one word of the subject's name, for a partner's search by name within
    its own agency. Only for kinds shown the name; the name itself is never stored in clear,
    and the key is the linkage key's own, used with a purpose of its own."""

    __tablename__ = "referral_name_tokens"
    __table_args__ = (Index("ix_referral_name_tokens_lookup", "agency_id", "token"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    token: Mapped[str] = mapped_column(String(64))
