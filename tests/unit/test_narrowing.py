"""referrals/narrowing.py: a validated value passes through; a missing one is a loud error."""

from __future__ import annotations

import pytest

from referrals.narrowing import given


@pytest.mark.parametrize("value", [0, "", False, "x", 3])
def test_a_present_value_passes_through_even_when_falsy(value: object) -> None:
    assert given(value, "field") is value


def test_a_missing_value_is_a_programming_error_named_by_its_field() -> None:
    with pytest.raises(RuntimeError, match="received_at is missing after validation"):
        given(None, "received_at")
