"""Age bands, safe redirects, keyset cursors and the password policy."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from referrals.queries.paging import Cursor
from referrals.security.access import safe_next
from referrals.security.passwords import (
    PasswordPolicyError,
    check_policy,
    hash_password,
    verify_password,
)
from referrals.services.ages import age_band, age_on


@pytest.mark.parametrize(
    ("dob", "on", "band"),
    [
        (date(2026, 1, 1), date(2026, 11, 21), "under 1"),
        (date(2025, 11, 21), date(2026, 11, 21), "1–4"),
        (date(2016, 11, 22), date(2026, 11, 21), "5–10"),  # the day before the 10th birthday
        (date(2011, 11, 21), date(2026, 11, 21), "11–15"),
        (date(2009, 11, 22), date(2026, 11, 21), "16–17"),
        (date(2008, 11, 21), date(2026, 11, 21), "18+"),
        (None, date(2026, 11, 21), "unknown"),
    ],
)
def test_age_bands(dob: date | None, on: date, band: str) -> None:
    assert age_band(dob, on) == band


def test_age_on_a_leap_day_birthday() -> None:
    assert age_on(date(2016, 2, 29), date(2026, 2, 28)) == 9
    assert age_on(date(2016, 2, 29), date(2026, 3, 1)) == 10


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/desk/", "/desk/"),
        ("/desk/?risk=high", "/desk/?risk=high"),
        ("//evil.example", None),
        ("https://evil.example", None),
        ("/\\evil", None),
        ("desk", None),
        ("", None),
        ("/desk/\r\nX: y", None),
    ],
)
def test_safe_next(target: str, expected: str | None) -> None:
    assert safe_next(target) == expected


def test_cursor_round_trip_and_garbage() -> None:
    cursor = Cursor(datetime(2026, 11, 21, 9, 30, tzinfo=UTC), 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for junk in ("", "!!!", "bm90LWEtY3Vyc29y", "x" * 500):
        assert Cursor.decode(junk) is None


def test_password_policy_and_hashing() -> None:
    for bad, message in (
        ("short", "at least 12"),
        ("password1234", "too common"),
        ("x" * 300, "256 characters"),
    ):
        with pytest.raises(PasswordPolicyError, match=message):
            check_policy(bad)
    check_policy("four random words here")
    hashed = hash_password("four random words here")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "four random words here")
    assert not verify_password(hashed, "four random words there")
    assert not verify_password(None, "anything at all")
