"""London's reference agencies: each borough's children's social care front door and MARAC
coordinator, and (for synthetic data at volume) a few thousand synthetic schools. Created
through the same checks and audit as an administrator's, in bulk."""

from __future__ import annotations

from referrals.models.agency import AgencyKind
from referrals.reference import BOROUGHS
from referrals.services import admin
from referrals.services.actors import Actor
from referrals.synthetic import BOROUGH_WEIGHTS, SCHOOL_KINDS, SCHOOL_WORDS

SCHOOLS_PER_WEIGHT = 1.6  # about 3,000 schools across London
FIRST_URN = 700000


def borough_agencies(taken: admin.Taken) -> list[admin.AgencyInput]:
    """Each borough's front door and MARAC coordinator that ``taken`` does not hold yet."""
    wanted = []
    for code, name in BOROUGHS.items():
        for kind, prefix, label in (
            (AgencyKind.CHILDRENS_SOCIAL_CARE, "CSC", "children's social care front door"),
            (AgencyKind.MARAC, "MARAC", "MARAC coordinator"),
        ):
            if f"{prefix}-{code}" not in taken.codes:
                wanted.append(
                    admin.AgencyInput(
                        code=f"{prefix}-{code}",
                        name=f"{name} {label}",
                        kind=kind,
                        borough_code=code,
                        notice_email=f"{prefix.lower()}@{code.lower()}.example",
                    )
                )
    return wanted


def synthetic_schools(taken: admin.Taken) -> list[admin.AgencyInput]:
    """About 3,000 synthetic schools, spread by the boroughs' weights, URNs from 700000."""
    wanted = []
    urn = FIRST_URN
    for code, weight in BOROUGH_WEIGHTS.items():
        for n in range(max(1, round(weight * SCHOOLS_PER_WEIGHT))):
            if f"SCH-{urn}" not in taken.codes:
                word = SCHOOL_WORDS[(urn + n) % len(SCHOOL_WORDS)]
                school_kind = SCHOOL_KINDS[urn % len(SCHOOL_KINDS)]
                wanted.append(
                    admin.AgencyInput(
                        code=f"SCH-{urn}",
                        name=f"{word} {school_kind} {urn} ({BOROUGHS[code]})",
                        kind=AgencyKind.SCHOOL,
                        borough_code=code,
                        school_urn=str(urn),
                        notice_email=f"dsl@{urn}.example",
                        contact_phone=f"020 7946 {urn % 1000:04d}",
                    )
                )
            urn += 1
    return wanted


def ensure_borough_agencies(actor: Actor) -> int:
    taken = admin.Taken.load()
    return len(admin.create_agencies(actor, borough_agencies(taken), taken))


def ensure_reference_data() -> int:
    """Front doors, MARAC coordinators and the synthetic schools, where missing."""
    taken = admin.Taken.load()
    wanted = borough_agencies(taken) + synthetic_schools(taken)
    return len(admin.create_agencies(Actor.system("generator"), wanted, taken))
