"""Pseudonyms that stay the same across incidents, through a keyed HMAC of normalised identifiers.

An unkeyed hash of a name and a date of birth can be reversed by enumeration; this one needs the
linkage key, which is kept apart from the encryption key (the desk refuses to start if they match).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import date

from sqlalchemy import select

from referrals.extensions import db
from referrals.models.person import Person, PersonKind
from referrals.runtime import runtime

# Crockford's base32: no I, L, O or U, so a pseudonym read aloud is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = {PersonKind.CHILD: "C", PersonKind.ADULT: "A"}


def normalise_name(given: str, family: str) -> str:
    """Case, accents, punctuation and spacing do not make a different person."""
    text = f"{given} {family}"
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", "", text.casefold())
    return " ".join(text.split())


def link_hash(key: bytes, given: str, family: str, date_of_birth: date | None) -> str | None:
    name = normalise_name(given, family)
    if date_of_birth is None or not name:
        return None  # too little to link on safely: a fresh person every time
    message = f"v1|{name}|{date_of_birth.isoformat()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def format_pseudonym(kind: PersonKind, material: bytes) -> str:
    number = int.from_bytes(material[:5], "big")  # 40 bits -> 8 base32 characters
    chars = "".join(ALPHABET[(number >> shift) & 31] for shift in range(35, -5, -5))
    return f"{PREFIX[kind]}-{chars[:4]}-{chars[4:]}"


def _candidate(kind: PersonKind, link: str | None, attempt: int) -> str:
    if link is None:
        return format_pseudonym(kind, secrets.token_bytes(5))
    material = hashlib.sha256(f"{link}|{attempt}".encode()).digest()
    return format_pseudonym(kind, material)


def find_or_create(
    kind: PersonKind, given: str, family: str, date_of_birth: date | None
) -> tuple[Person, bool]:
    """The person these identifiers belong to, and whether they were already known."""
    link = link_hash(runtime().linkage_key, given, family, date_of_birth)
    if link is not None:
        existing = db.session.scalar(select(Person).where(Person.link_hash == link))
        if existing is not None:
            return existing, True
    for attempt in range(20):
        pseudonym = _candidate(kind, link, attempt)
        taken = db.session.scalar(select(Person.id).where(Person.pseudonym == pseudonym))
        if taken is None:
            person = Person(pseudonym=pseudonym, kind=kind, link_hash=link)
            db.session.add(person)
            db.session.flush()
            return person, False
    raise RuntimeError("could not find a free pseudonym after 20 attempts")
