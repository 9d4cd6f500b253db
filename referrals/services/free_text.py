"""Free text a person types: reasons, notes, messages. One rule for each, with the limit read
from the model (:func:`referrals.db.text_limit`), so no check can allow more than its column."""

from __future__ import annotations

import re

from referrals.services.errors import InvalidInput

MIN_REASON = 10  # a reason shorter than this says nothing an auditor could use
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and new lines allowed
SINGLE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a name or an address line: none at all


def checked(
    value: str, limit: int, *, field: str, label: str, minimum: int = 0, required: str = ""
) -> str:
    """The text, stripped, or :class:`InvalidInput` keyed by ``field`` saying what is wrong.
    ``label`` names the text in a sentence ("The reason"); ``required`` is the message when it
    is missing or shorter than ``minimum`` (default: give at least ``minimum`` characters)."""
    value = (value or "").strip()
    if len(value) < max(minimum, 1 if required else 0):
        raise InvalidInput({field: required or f"{label} must be at least {minimum} characters"})
    if len(value) > limit:
        raise InvalidInput({field: f"{label} must be {limit} characters or fewer"})
    if CONTROL_CHARACTERS.search(value):
        raise InvalidInput(
            {field: f"Remove the control characters from {label[0].lower()}{label[1:]}"}
        )
    return value


def reason(value: str, limit: int, *, field: str = "reason", label: str = "The reason") -> str:
    """A reason the audit trail will keep: at least :data:`MIN_REASON` characters."""
    return checked(
        value,
        limit,
        field=field,
        label=label,
        minimum=MIN_REASON,
        required=f"Give a reason of at least {MIN_REASON} characters",
    )
