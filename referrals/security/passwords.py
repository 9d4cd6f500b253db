"""Password hashing (argon2id) and the NCSC-style policy: long, not common, no composition rules."""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("an unused dummy password to equalise timing")


class PasswordPolicyError(ValueError):
    """The password is too short, too long, or on the common-password list."""


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("referrals.security").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_policy(password: str, *, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"Password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"Password must be {MAX_LENGTH} characters or fewer")
    lowered = password.lower()
    if lowered in _common_passwords():
        raise PasswordPolicyError("That password is too common: choose a less guessable one")
    if email and lowered == email.lower():
        raise PasswordPolicyError("Password must not be your e-mail address")


# An invited user's stored hash until they set their own: nothing verifies against it.
NO_PASSWORD = "!unset"  # noqa: S105 - a marker, not a password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-shape check: an unknown user, or one who has not set a password yet (an open
    invitation), costs one argon2 verification too."""
    usable = password_hash if password_hash and password_hash.startswith("$argon2") else None
    try:
        return _hasher.verify(usable or _DUMMY_HASH, password) and usable is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
