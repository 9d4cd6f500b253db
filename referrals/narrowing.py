"""Values that validation has already required, narrowed for the type checker.

An ``assert`` would narrow too, but ``python -O`` strips it, and then a skipped validation would
reach the database as a NULL; :func:`given` checks at run time as well, always.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def given(value: T | None, what: str) -> T:
    """``value``, which the caller's validation has already required; a programming error (not
    the user's) if it is missing."""
    if value is None:
        raise RuntimeError(f"{what} is missing after validation")
    return value
