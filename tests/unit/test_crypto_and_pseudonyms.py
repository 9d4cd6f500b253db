"""Authenticated encryption bound to its row, and keyed pseudonyms."""

from __future__ import annotations

import os
from datetime import date

import pytest

from referrals.models.person import PersonKind
from referrals.security.crypto import DecryptionError, Keyring
from referrals.services.pseudonyms import ALPHABET, format_pseudonym, link_hash, normalise_name

KEY_A, KEY_B = os.urandom(32), os.urandom(32)


def test_sealed_value_opens_only_with_its_own_associated_data() -> None:
    ring = Keyring("a", {"a": KEY_A})
    key_id, blob = ring.seal(b"Robin Testwood", b"row-1|person.identity")
    assert ring.open(key_id, blob, b"row-1|person.identity") == b"Robin Testwood"
    with pytest.raises(DecryptionError):
        ring.open(key_id, blob, b"row-2|person.identity")  # copied to another row
    with pytest.raises(DecryptionError):
        ring.open(key_id, blob, b"row-1|incident.summary")  # used for another column
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        ring.open(key_id, tampered, b"row-1|person.identity")


def test_old_key_still_opens_after_rotation_and_new_values_use_the_new_key() -> None:
    old = Keyring("a", {"a": KEY_A})
    key_id, blob = old.seal(b"secret", b"aad")
    rotated = Keyring("b", {"b": KEY_B, "a": KEY_A})
    assert rotated.open(key_id, blob, b"aad") == b"secret"
    assert rotated.seal(b"x", b"aad")[0] == "b"
    with pytest.raises(DecryptionError, match="no key"):
        Keyring("b", {"b": KEY_B}).open(key_id, blob, b"aad")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Robin", "Testwood"), ("  robin ", "TESTWOOD")),
        (("Zoë", "Dummer"), ("Zoe", "Dummer")),
        (("Mary-Jane", "O'Testwood"), ("MaryJane", "OTestwood")),
    ],
)
def test_normalisation_ignores_case_accents_punctuation_and_spacing(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert normalise_name(*a) == normalise_name(*b)
    dob = date(2016, 3, 27)
    assert link_hash(KEY_A, *a, dob) == link_hash(KEY_A, *b, dob)


def test_link_hash_is_keyed_and_needs_a_date_of_birth() -> None:
    dob = date(2016, 3, 27)
    assert link_hash(KEY_A, "Robin", "Testwood", dob) != link_hash(KEY_B, "Robin", "Testwood", dob)
    assert link_hash(KEY_A, "Robin", "Testwood", dob) != link_hash(
        KEY_A, "Robin", "Testwood", date(2016, 3, 28)
    )
    assert link_hash(KEY_A, "Robin", "Testwood", None) is None


def test_pseudonym_format() -> None:
    pseudonym = format_pseudonym(PersonKind.CHILD, bytes(range(5)))
    prefix, first, second = pseudonym.split("-")
    assert prefix == "C" and len(first) == len(second) == 4
    assert set(first + second) <= set(ALPHABET)
    assert format_pseudonym(PersonKind.ADULT, bytes(5)).startswith("A-")
