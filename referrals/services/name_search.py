"""A partner's search by the child's name within its own agency, without names in clear.

Each word of a referral's subject's name is kept as a keyed hash (the linkage key, with a purpose
of its own), for agencies whose kind is shown the name. A search hashes the words typed and looks
them up: only whole words match, and never across agencies.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from sqlalchemy import Select, delete, func, select

from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.referral import Referral, ReferralNameToken
from referrals.profiles import Field, profile
from referrals.runtime import runtime
from referrals.services import identity_store, pseudonyms

PURPOSE = b"name-search|v1|"


def tokens(key: bytes, text: str) -> set[str]:
    """The keyed hash of each word of a name, normalised as pseudonyms normalise names."""
    words = pseudonyms.normalise_name(text, "").split()
    return {hmac.new(key, PURPOSE + w.encode(), hashlib.sha256).hexdigest() for w in words}


def shows_names_of(kind: AgencyKind) -> bool:
    return Field.SUBJECT_IDENTITY in profile(kind).fields


def index(referrals: Iterable[Referral]) -> None:
    """(Re)write the name tokens of these referrals, reading their subjects' names in one go."""
    chosen = [r for r in referrals if shows_names_of(r.agency.kind)]
    if not chosen:
        return
    db.session.execute(
        delete(ReferralNameToken).where(ReferralNameToken.referral_id.in_([r.id for r in chosen]))
    )
    opened = identity_store.unseal_many(r.subject.identity_sealed_id for r in chosen)
    key = runtime().linkage_key
    for referral in chosen:
        identity = identity_store.loads(opened.get(referral.subject.identity_sealed_id))
        name = f"{identity.get('given_name', '')} {identity.get('family_name', '')}"
        db.session.add_all(
            ReferralNameToken(referral_id=referral.id, agency_id=referral.agency_id, token=t)
            for t in tokens(key, name)
        )


def matching(agency_id: int, text: str) -> Select[int] | None:
    """Ids of the agency's referrals whose subject's name holds every word typed; None when
    nothing searchable was typed."""
    wanted = tokens(runtime().linkage_key, text)
    if not wanted:
        return None
    return (
        select(ReferralNameToken.referral_id)
        .where(ReferralNameToken.agency_id == agency_id, ReferralNameToken.token.in_(wanted))
        .group_by(ReferralNameToken.referral_id)
        .having(func.count(func.distinct(ReferralNameToken.token)) == len(wanted))
    )
