"""One profile per kind of agency: what it is shown, the decisions it can record, its default
deadlines and escalation ladder, its default hours, and whether its notices wait for them.

Adding a kind of agency means adding its profile here, a migration that seeds its default
policies (a test checks the seeds agree with these profiles) and its tests; nothing else.
Deadline policies and the ladder are data that administrators change; the defaults here are
what the migrations seed and what applies when no row is in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum

from referrals.calendars import DeadlineRule, RuleKind
from referrals.models.agency import AgencyKind
from referrals.models.deadlines import DeadlineClock
from referrals.models.escalation import EscalationStep
from referrals.models.incident import RiskGrade


class Field(StrEnum):
    """What a partner can be shown of a referral."""

    REFERENCE = "reference"
    WHEN = "when"
    PLACE = "place"
    SUBJECT_IDENTITY = "subject_identity"  # the child's (or victim's) name and date of birth
    SUBJECT_ADDRESS = "subject_address"
    PRESENCE = "presence"  # present or not, and where
    VOICE = "voice"
    WELFARE_CHECK = "welfare_check"  # whether officers spoke to the child
    SCHOOL = "school"
    KNOWN_TO_SOCIAL_CARE = "known_to_social_care"
    RISK = "risk"
    SUMMARY = "summary"
    HOUSEHOLD = "household"  # the adults, the suspect included, with their details
    SIBLINGS = "siblings"  # the other children of the incident


# What a school receives under Operation Encompass: the child's name and date of birth, the
# police reference, when and where, whether the child was present and where, what the child
# said, and whether officers spoke to them. Never the narrative, the suspect or an address.
OPERATION_ENCOMPASS = frozenset(
    {
        Field.REFERENCE,
        Field.WHEN,
        Field.PLACE,
        Field.SUBJECT_IDENTITY,
        Field.PRESENCE,
        Field.VOICE,
        Field.WELFARE_CHECK,
    }
)

Rules = Mapping[tuple[DeadlineClock, RiskGrade | None], DeadlineRule]
Choices = tuple[tuple[str, str], ...]
# Why a partner may decline, whatever its kind; each kind adds its own before these.
DECLINE_REASONS: Choices = (
    ("wrong_agency", "It was sent to the wrong agency"),
    ("duplicate", "We already have it: a duplicate"),
    ("other", "Another reason"),
)
ONE_WORKING_DAY = DeadlineRule(RuleKind.WORKING_DAYS, 1)
NONE = DeadlineRule(RuleKind.NO_DEADLINE, 1)
LADDER = {EscalationStep.REMINDER: 0, EscalationStep.DUTY_MANAGER: 2, EscalationStep.SUPERVISOR: 4}


@dataclass(frozen=True)
class KindProfile:
    kind: AgencyKind
    # What a referral to this kind shows (empty: it receives no referrals).
    fields: frozenset[Field]
    # The decisions it can record: (code, label).
    outcomes: Choices
    # Default deadline rule per clock and risk grade (a grade of None covers every grade).
    deadlines: Rules
    # Default escalation ladder: working hours after the due time for each step.
    ladder: Mapping[EscalationStep, int] = field(default_factory=lambda: dict(LADDER))
    # A notice of a new referral goes out at any hour (it holds only a reference and a link):
    # true where the deadline may fall before the recipient's working day begins.
    notices_any_hour: bool = False
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    school_day_start: time | None = None
    # Reasons to decline of its own, offered before the common ones.
    declines: Choices = ()

    @property
    def receives_referrals(self) -> bool:
        return bool(self.fields)

    @property
    def decline_reasons(self) -> Choices:
        return (*self.declines, *DECLINE_REASONS) if self.receives_referrals else ()

    def default_rule(self, clock: DeadlineClock, grade: RiskGrade) -> DeadlineRule | None:
        """The default for a clock and grade; None when this kind has no such clock."""
        rule = self.deadlines.get((clock, grade)) or self.deadlines.get((clock, None))
        return None if rule is None or rule.kind is RuleKind.NO_DEADLINE else rule


PROFILES: dict[AgencyKind, KindProfile] = {
    AgencyKind.POLICE_DESK: KindProfile(
        kind=AgencyKind.POLICE_DESK,
        fields=frozenset(),
        outcomes=(),
        # The desk's own triage clock, from receipt of the notification.
        deadlines={
            (DeadlineClock.TRIAGE, RiskGrade.HIGH): DeadlineRule(RuleKind.ELAPSED_HOURS, 1),
            (DeadlineClock.TRIAGE, RiskGrade.MEDIUM): DeadlineRule(RuleKind.WORKING_HOURS, 4),
            (DeadlineClock.TRIAGE, RiskGrade.STANDARD): ONE_WORKING_DAY,
        },
        ladder={},
    ),
    AgencyKind.CHILDRENS_SOCIAL_CARE: KindProfile(
        kind=AgencyKind.CHILDRENS_SOCIAL_CARE,
        fields=frozenset(Field),
        outcomes=(
            ("no_further_action", "No further action"),
            ("information_and_advice", "Information and advice"),
            ("early_help", "Early help"),
            ("child_in_need_assessment", "Child in need assessment (s.17)"),
            ("strategy_discussion_s47", "Strategy discussion / s.47 enquiry"),
            ("already_open", "Already open: added to case"),
        ),
        # Working Together to Safeguard Children (2023): acknowledge and decide next steps
        # within one working day of receipt.
        deadlines={
            (DeadlineClock.ACKNOWLEDGE, None): ONE_WORKING_DAY,
            (DeadlineClock.DECISION, None): ONE_WORKING_DAY,
        },
        declines=(("other_borough", "The child lives in another borough"),),
    ),
    AgencyKind.SCHOOL: KindProfile(
        kind=AgencyKind.SCHOOL,
        fields=OPERATION_ENCOMPASS,
        outcomes=(
            ("support_in_school", "Support put in place in school"),
            ("monitoring", "Noted: the school is monitoring"),
            ("referred_to_social_care", "The safeguarding lead referred to children's social care"),
            ("no_action_needed", "Noted: no action needed"),
        ),
        # Operation Encompass: before the start of the next school day.
        deadlines={
            (DeadlineClock.ACKNOWLEDGE, None): DeadlineRule(RuleKind.NEXT_SCHOOL_DAY_START, 1),
            (DeadlineClock.DECISION, None): NONE,
        },
        notices_any_hour=True,
        school_day_start=time(8, 30),
        declines=(
            ("not_on_roll", "The child is not on our roll"),
            ("left_school", "The child has left the school"),
        ),
    ),
    AgencyKind.HEALTH: KindProfile(
        kind=AgencyKind.HEALTH,
        fields=OPERATION_ENCOMPASS | {Field.RISK, Field.KNOWN_TO_SOCIAL_CARE},
        outcomes=(("support_offered", "Support offered"), ("noted", "Noted: no action needed")),
        deadlines={
            (DeadlineClock.ACKNOWLEDGE, None): ONE_WORKING_DAY,
            (DeadlineClock.DECISION, None): NONE,
        },
    ),
    AgencyKind.MARAC: KindProfile(
        kind=AgencyKind.MARAC,
        fields=frozenset(
            {
                Field.REFERENCE,
                Field.WHEN,
                Field.PLACE,
                Field.SUBJECT_IDENTITY,
                Field.SUBJECT_ADDRESS,
                Field.RISK,
                Field.SUMMARY,
                Field.HOUSEHOLD,
                Field.SIBLINGS,
            }
        ),
        outcomes=(
            ("listed_for_marac", "Listed for the next MARAC"),
            ("below_threshold", "Does not meet the MARAC threshold"),
            ("already_known", "Already known to MARAC"),
        ),
        declines=(("other_area", "The victim lives outside our area"),),
        deadlines={
            (DeadlineClock.ACKNOWLEDGE, None): ONE_WORKING_DAY,
            (DeadlineClock.DECISION, None): NONE,
        },
    ),
    AgencyKind.OTHER: KindProfile(
        kind=AgencyKind.OTHER,
        fields=OPERATION_ENCOMPASS,
        outcomes=(("support_offered", "Support offered"), ("noted", "Noted: no action needed")),
        deadlines={
            (DeadlineClock.ACKNOWLEDGE, None): ONE_WORKING_DAY,
            (DeadlineClock.DECISION, None): NONE,
        },
    ),
}


def profile(kind: AgencyKind) -> KindProfile:
    return PROFILES[kind]


def outcome_label(kind: AgencyKind, code: str | None) -> str:
    return dict(PROFILES[kind].outcomes).get(code or "", code or "—")


def decline_label(kind: AgencyKind, code: str | None) -> str:
    return dict(PROFILES[kind].decline_reasons).get(code or "", code or "—")
