"""Ages and the age bands shown on working screens instead of a date of birth."""

from __future__ import annotations

from datetime import date

CHILD_AGE_LIMIT = 18
ADULT_MINIMUM_AGE = 16  # the Domestic Abuse Act 2021 definition: both people aged 16 or over


def age_on(date_of_birth: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (1 if before_birthday else 0)


def age_band(date_of_birth: date | None, on: date) -> str:
    if date_of_birth is None:
        return "unknown"
    age = age_on(date_of_birth, on)
    for upper, label in ((0, "under 1"), (4, "1–4"), (10, "5–10"), (15, "11–15"), (17, "16–17")):
        if age <= upper:
            return label
    return "18+"
