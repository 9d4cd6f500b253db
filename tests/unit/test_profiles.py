"""One profile per kind of agency (``referrals/profiles.py``), complete for every kind."""

from __future__ import annotations

import pytest

from referrals.calendars import RuleKind
from referrals.models.agency import AgencyKind
from referrals.models.deadlines import DeadlineClock
from referrals.models.escalation import EscalationStep
from referrals.models.incident import RiskGrade
from referrals.profiles import OPERATION_ENCOMPASS, PROFILES, Field, profile


@pytest.mark.parametrize("kind", list(AgencyKind))
def test_every_kind_has_a_complete_profile(kind: AgencyKind) -> None:
    p = profile(kind)
    assert p.kind is kind
    assert p.work_start < p.work_end
    if kind is AgencyKind.POLICE_DESK:
        # The desk receives no referrals; it has a triage deadline for every grade.
        assert not p.receives_referrals and not p.outcomes
        for grade in RiskGrade:
            assert p.default_rule(DeadlineClock.TRIAGE, grade) is not None
        return
    assert p.receives_referrals and Field.REFERENCE in p.fields
    assert len(p.outcomes) >= 2 and len({code for code, _ in p.outcomes}) == len(p.outcomes)
    assert all(code and label for code, label in p.outcomes)
    for grade in RiskGrade:
        assert p.default_rule(DeadlineClock.ACKNOWLEDGE, grade) is not None
        assert p.default_rule(DeadlineClock.TRIAGE, grade) is None
    assert (DeadlineClock.DECISION, None) in p.deadlines  # said, even when it is "none"
    assert set(p.ladder) == set(EscalationStep)
    assert p.ladder[EscalationStep.REMINDER] == 0  # reminders at the due time itself


def test_what_the_domain_fixes() -> None:
    school = PROFILES[AgencyKind.SCHOOL]
    assert school.fields == OPERATION_ENCOMPASS
    assert Field.SUMMARY not in school.fields and Field.HOUSEHOLD not in school.fields
    assert school.notices_any_hour and school.school_day_start is not None
    assert school.default_rule(DeadlineClock.DECISION, RiskGrade.HIGH) is None
    assert school.default_rule(DeadlineClock.ACKNOWLEDGE, RiskGrade.STANDARD).kind is (  # type: ignore[union-attr]
        RuleKind.NEXT_SCHOOL_DAY_START
    )
    social_care = PROFILES[AgencyKind.CHILDRENS_SOCIAL_CARE]
    assert social_care.fields == frozenset(Field)
    decision = social_care.default_rule(DeadlineClock.DECISION, RiskGrade.MEDIUM)
    assert decision is not None and (decision.kind, decision.amount) == (RuleKind.WORKING_DAYS, 1)
    desk = PROFILES[AgencyKind.POLICE_DESK]
    assert [
        (r.kind, r.amount)  # type: ignore[union-attr]
        for r in (desk.default_rule(DeadlineClock.TRIAGE, g) for g in RiskGrade)
    ] == [(RuleKind.WORKING_DAYS, 1), (RuleKind.WORKING_HOURS, 4), (RuleKind.ELAPSED_HOURS, 1)]
