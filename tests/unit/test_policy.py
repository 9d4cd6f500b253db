"""Who may see which record (``security/policy.py``): deny by default, and deny on an error,
logging the error, so that a denial nobody can explain is found."""

from __future__ import annotations

import logging

import pytest

from referrals.models.incident import Incident
from referrals.models.user import Role
from referrals.security import policy


class Broken:
    def __str__(self) -> str:
        raise RuntimeError("a role that cannot be read")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.DESK_OFFICER, True),
        (Role.SUPERVISOR, True),
        (Role.PARTNER, False),
        (Role.AUDITOR, False),
        (Role.ADMINISTRATOR, False),
        ("not a role", False),
    ],
)
def test_only_the_desk_views_an_incident(role: object, allowed: bool) -> None:
    assert policy.can_view_incident(role, Incident()) is allowed
    assert policy.can_view_incident(role, None) is False


@pytest.mark.parametrize("check", ["incident", "referral"])
def test_an_error_inside_a_check_denies_and_is_logged(
    check: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="referrals.security.policy"):
        if check == "incident":
            allowed = policy.can_view_incident(Broken(), Incident())
        else:
            allowed = policy.can_partner_see_referral(Broken(), 1, object())
    assert allowed is False
    expected = "an incident" if check == "incident" else "a referral"
    assert [r.message for r in caplog.records] == [f"access to {expected} denied on an error"]
    assert "a role that cannot be read" in caplog.text
