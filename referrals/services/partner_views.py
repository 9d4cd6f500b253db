"""What a partner's lists show of each referral: enough to recognise the child (the name, for
kinds shown it; otherwise age band and school), and whether other referrals of the same incident
came to the agency too, so they can be handled in one go. Showing names is a disclosure: each
list that shows any is one audit event naming the referrals shown."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from referrals.extensions import db
from referrals.models.audit import AuditKind
from referrals.models.referral import Referral, ReferralState
from referrals.profiles import Field, profile
from referrals.services import audit, identity_store
from referrals.services.actors import Actor


@dataclass(frozen=True)
class Row:
    referral: Referral
    who: str  # how the partner recognises the child
    named: bool  # ``who`` is the name (a disclosure), not an age band
    together: int  # the agency's referrals of this incident, this one included


def rows(referrals: list[Referral]) -> list[Row]:
    """The rows of a partner's list, with one query for the names and one for the counts."""
    if not referrals:
        return []
    shows = {r.id: Field.SUBJECT_IDENTITY in profile(r.agency.kind).fields for r in referrals}
    opened = identity_store.unseal_many(
        r.subject.identity_sealed_id for r in referrals if shows[r.id]
    )
    agency_id = referrals[0].agency_id
    counts = dict(
        db.session.execute(
            select(Referral.incident_id, func.count())
            .where(
                Referral.agency_id == agency_id,
                Referral.incident_id.in_({r.incident_id for r in referrals}),
                Referral.state != ReferralState.WITHDRAWN,
            )
            .group_by(Referral.incident_id)
        ).all()
    )
    found = []
    for r in referrals:
        if shows[r.id]:
            identity = identity_store.loads(opened.get(r.subject.identity_sealed_id))
            who = " ".join(
                p for p in (identity.get("given_name"), identity.get("family_name")) if p
            )
        else:
            who = ""
        if not who:
            school = r.subject.school.name if r.subject.school else "no school recorded"
            who = f"{r.subject.role.label}, {r.subject.age_band}, {school}"
        found.append(Row(r, who, bool(shows[r.id]), int(counts.get(r.incident_id, 1))))
    return found


def audit_shown(actor: Actor, shown: list[Row], action: str) -> None:
    """One disclosure event for a list that showed names: who saw which referrals' names."""
    named = [row.referral for row in shown if row.named]
    if named:
        audit.record(
            actor,
            AuditKind.DISCLOSURE,
            action,
            "agency",
            actor.agency_id,
            recipients=[named[0].agency.code],
            detail={"referrals": [r.id for r in named]},
            touched=[("referral", r.id) for r in named],
        )
