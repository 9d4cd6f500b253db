"""The decisions each kind of agency can record on a referral (DOMAIN.md, step 5)."""

from __future__ import annotations

from referrals.models.agency import AgencyKind

OUTCOMES: dict[AgencyKind, list[tuple[str, str]]] = {
    AgencyKind.CHILDRENS_SOCIAL_CARE: [
        ("no_further_action", "No further action"),
        ("information_and_advice", "Information and advice"),
        ("early_help", "Early help"),
        ("child_in_need_assessment", "Child in need assessment (s.17)"),
        ("strategy_discussion_s47", "Strategy discussion / s.47 enquiry"),
        ("already_open", "Already open: added to case"),
    ],
    AgencyKind.SCHOOL: [
        ("support_in_school", "Support put in place in school"),
        ("monitoring", "Noted: the school is monitoring"),
        ("referred_to_social_care", "The safeguarding lead referred to children's social care"),
        ("no_action_needed", "Noted: no action needed"),
    ],
    AgencyKind.MARAC: [
        ("listed_for_marac", "Listed for the next MARAC"),
        ("below_threshold", "Does not meet the MARAC threshold"),
        ("already_known", "Already known to MARAC"),
    ],
}
DEFAULT_OUTCOMES = [("support_offered", "Support offered"), ("noted", "Noted: no action needed")]


def outcomes_for(kind: AgencyKind) -> list[tuple[str, str]]:
    return OUTCOMES.get(kind, DEFAULT_OUTCOMES)


def outcome_label(kind: AgencyKind, code: str | None) -> str:
    return dict(outcomes_for(kind)).get(code or "", code or "—")
