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
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Identifiers:
    kind: PersonKind
    given: str
    family: str
    date_of_birth: date | None


def resolve(people: Sequence[Identifiers]) -> list[tuple[Person, bool]]:
    """The person each set of identifiers belongs to, and whether they were already known, in
    order. New people are added to the session with a pseudonym no one else has. Two queries
    for a whole household however large, not two per person (intake's cost on PostgreSQL is
    its round trips)."""
    key = runtime().linkage_key
    links = [link_hash(key, p.given, p.family, p.date_of_birth) for p in people]
    wanted = {link for link in links if link is not None}
    known: dict[str, Person] = {}
    if wanted:
        known = {
            person.link_hash: person
            for person in db.session.scalars(select(Person).where(Person.link_hash.in_(wanted)))
            if person.link_hash
        }
    found: list[tuple[Person, bool]] = []
    new: list[Person] = []
    made: dict[str, Person] = {}
    for who, link in zip(people, links, strict=True):
        if link is not None and link in known:
            found.append((known[link], True))
        elif link is not None and link in made:  # the same identifiers twice in one batch
            found.append((made[link], False))
        else:
            person = Person(pseudonym=_candidate(who.kind, link, 0), kind=who.kind, link_hash=link)
            if link is not None:
                made[link] = person
            new.append(person)
            found.append((person, False))
    _free_pseudonyms(new)
    db.session.add_all(new)
    return found


def _free_pseudonyms(new: list[Person]) -> None:
    """Give each new person a pseudonym that is neither taken nor given twice in this batch."""
    accepted: set[str] = set()
    pending = new
    for attempt in range(1, 21):
        if not pending:
            return
        candidates = [p.pseudonym for p in pending]
        taken = set(
            db.session.scalars(select(Person.pseudonym).where(Person.pseudonym.in_(candidates)))
        )
        clashing = []
        for person in pending:
            if person.pseudonym in taken or person.pseudonym in accepted:
                clashing.append(person)
            else:
                accepted.add(person.pseudonym)
        for person in clashing:
            person.pseudonym = _candidate(person.kind, person.link_hash, attempt)
        pending = clashing
    raise RuntimeError("could not find a free pseudonym after 20 attempts")
