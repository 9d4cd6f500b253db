"""Synthetic demo data: the 33 London front doors, synthetic schools, one user per role, and a
few synthetic incidents imported through the same path as any notification. Never real people."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.api_client import ApiClientKind
from referrals.models.incident import Incident, IncidentStatus
from referrals.models.referral import Referral, ReferralState
from referrals.models.retention import RetentionReview
from referrals.models.user import Role, User
from referrals.profiles import profile
from referrals.reference import BOROUGHS
from referrals.services import (
    admin,
    api_clients,
    factors,
    outbox,
    reference_agencies,
    routing,
    supervision,
)
from referrals.services import referral_lifecycle as lifecycle
from referrals.services.actors import Actor
from referrals.synthetic import GIVEN, SCHOOL_KINDS, SCHOOL_WORDS, STREETS

DEMO_ACTOR = Actor.system("demo")
SCHOOL_BOROUGHS = ("E09000022", "E09000028", "E09000012", "E09000008", "E09000025", "E09000003")
FAMILY = (
    "Testwood",
    "Sampleton",
    "Fakeham",
    "Demoford",
    "Mockley",
    "Placeholder",
    "Exampleby",
    "Synthwick",
    "Dummer",
    "Fictionstone",
)


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    password: str
    agency_code: str | None = None

    @property
    def totp_secret(self) -> str:
        """The authenticator secret this demo user is enrolled with: synthetic, derived from
        the address and published in the README, so a newcomer can sign in (``flask demo
        code EMAIL`` prints the current code)."""
        digest = hashlib.sha256(f"synthetic demo authenticator|{self.email}".encode()).digest()
        return base64.b32encode(digest[:20]).decode()


def sign_in_lines() -> list[str]:
    """The demo sign-ins as printed by ``demo load`` and ``make run``."""
    return [
        "Demo sign-ins (synthetic, development only): the password, then a code from an",
        "authenticator app holding the secret, or from:",
        "  REFERRALS_ENV=development .venv/bin/flask --app wsgi demo code EMAIL",
        *(
            f"  {u.role.label:<14} {u.email:<26} {u.password:<24} {u.totp_secret}"
            for u in DEMO_USERS
        ),
        "Demo API tokens (synthetic): see the README's curl examples",
        *(f"  {name:<26} {token}" for name, _kind, _agency, token in DEMO_API_CLIENTS),
    ]


def demo_user(email: str) -> DemoUser | None:
    return next((u for u in DEMO_USERS if u.email == email.strip().lower()), None)


DEMO_USERS = (
    DemoUser("desk.officer@desk.example", "Dana Desk", Role.DESK_OFFICER, "demo-desk-officer-pass"),
    DemoUser("supervisor@desk.example", "Sol Supervisor", Role.SUPERVISOR, "demo-supervisor-pass"),
    DemoUser("admin@desk.example", "Ada Admin", Role.ADMINISTRATOR, "demo-administrator-pass"),
    DemoUser("auditor@desk.example", "Aud Itor", Role.AUDITOR, "demo-auditor-pass-word"),
    DemoUser(
        "mash@lambeth.example",
        "Lambeth MASH duty",
        Role.PARTNER,
        "demo-partner-lambeth",
        "CSC-E09000022",
    ),
    DemoUser(
        "mash@southwark.example",
        "Southwark MASH duty",
        Role.PARTNER,
        "demo-partner-southwark",
        "CSC-E09000028",
    ),
    DemoUser(
        "dsl@northfield.example",
        "Northfield DSL",
        Role.PARTNER,
        "demo-partner-school-one",
        "SCH-900001",
    ),
    DemoUser(
        "dsl@elmgrove.example",
        "Elm Grove DSL",
        Role.PARTNER,
        "demo-partner-school-two",
        "SCH-900002",
    ),
)


def is_empty() -> bool:
    return not db.session.scalar(select(func.count(Agency.id)))


def load_reference_data() -> None:
    admin.create_agency(
        DEMO_ACTOR,
        admin.AgencyInput(
            code="MET-PPRD",
            name="Met Public Protection Referrals desk",
            kind=AgencyKind.POLICE_DESK,
        ),
    )
    reference_agencies.ensure_borough_agencies(DEMO_ACTOR)
    for borough, urn, name in school_plan():
        admin.create_agency(
            DEMO_ACTOR,
            admin.AgencyInput(
                code=f"SCH-{urn}",
                name=name,
                kind=AgencyKind.SCHOOL,
                borough_code=borough,
                school_urn=str(urn),
                notice_email=f"dsl@{urn}.example",
                contact_phone=f"020 7946 0{urn % 1000:03d}",
            ),
        )


def school_plan() -> list[tuple[str, int, str]]:
    """(borough, URN, name) of each synthetic school: twelve in the first borough, six in others."""
    plan, urn = [], 900001
    for borough in SCHOOL_BOROUGHS:
        for word in SCHOOL_WORDS if borough == SCHOOL_BOROUGHS[0] else SCHOOL_WORDS[:6]:
            kind = SCHOOL_KINDS[urn % len(SCHOOL_KINDS)]
            plan.append((borough, urn, f"{word} {kind} ({BOROUGHS[borough]})"))
            urn += 1
    return plan


# Fixed synthetic tokens, so that the README's curl examples work against `make run`'s demo.
DEMO_API_CLIENTS = (
    ("Demo police intake", ApiClientKind.POLICE_INTAKE, None, "rdk_demo-police-intake-token"),
    ("Demo Lambeth front door", ApiClientKind.PARTNER, "CSC-E09000022", "rdk_demo-lambeth-token"),
)


def load_api_clients() -> None:
    codes = {a.code: a.id for a in db.session.scalars(select(Agency))}
    for name, kind, agency_code, token in DEMO_API_CLIENTS:
        api_clients.create(
            DEMO_ACTOR,
            name=name,
            kind=kind,
            agency_id=codes.get(agency_code) if agency_code else None,
            scopes=[s.value for s in kind.scopes],
            expires_at=None,
            token=token,
        )


def load_users() -> list[DemoUser]:
    codes = {a.code: a.id for a in db.session.scalars(select(Agency))}
    for u in DEMO_USERS:
        user = admin.create_user(
            DEMO_ACTOR,
            admin.UserInput(
                email=u.email,
                display_name=u.name,
                role=u.role,
                agency_id=codes.get(u.agency_code) if u.agency_code else None,
            ),
            u.password,
        )
        factors.add_totp(DEMO_ACTOR, user.id, u.totp_secret, "Demo authenticator")
    return list(DEMO_USERS)


def _person(rng: random.Random, born: date, family: str) -> dict[str, Any]:
    return {
        "given_name": rng.choice(GIVEN),
        "family_name": family,
        "date_of_birth": born.isoformat(),
        "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}, London",
    }


def notifications(count: int = 12, *, seed: int = 7) -> list[dict[str, Any]]:
    """Synthetic notifications received over the last few days, two to a household at most."""
    rng = random.Random(seed)
    schools: dict[str, list[int]] = {}
    for borough, urn, _name in school_plan():
        schools.setdefault(borough, []).append(urn)
    now = clock.now()
    today = now.date()
    out: list[dict[str, Any]] = []
    for i in range(count):
        # The first few are in Lambeth, at the demo partners' schools, so every partner has work.
        borough = SCHOOL_BOROUGHS[min(i, 4) // 4] if i < 5 else rng.choice(SCHOOL_BOROUGHS)
        # Two from a fortnight ago: whatever the day, their referrals are overdue by now.
        hours_ago = 30 + 5 * i if i < 5 else 14 * 24 + i if i < 7 else rng.randint(1, 96)
        received = now - timedelta(hours=hours_ago, minutes=rng.randint(0, 59))
        occurred = received - timedelta(hours=rng.randint(1, 10))
        family = rng.choice(FAMILY)
        adults = [
            {
                "role": "victim",
                **_person(rng, today - timedelta(days=rng.randint(20, 45) * 365), family),
            },
            {
                "role": "suspect",
                **_person(
                    rng, today - timedelta(days=rng.randint(20, 50) * 365), rng.choice(FAMILY)
                ),
            },
        ]
        children: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 3)):
            child = _person(rng, today - timedelta(days=rng.randint(200, 16 * 365)), family)
            present = rng.random() < 0.6
            children.append(
                {
                    **child,
                    "borough": borough,
                    "lives_there": True,
                    "present": present,
                    "present_where": "upstairs bedroom" if present else "",
                    "spoken_to": present and rng.random() < 0.5,
                    "voice": "Said they heard shouting." if present else "",
                    "school_urn": str(900001 + (i + len(children)) % 2)
                    if i < 4
                    else (str(rng.choice(schools[borough])) if rng.random() < 0.8 else ""),
                    "home_educated": False,
                    "known_to_social_care": rng.choice([True, False, None]),
                }
            )
        grade = rng.choice(["standard", "medium", "medium", "high"])
        out.append(
            {
                "id": f"DEMO-{seed}-{i:04d}",
                "police_reference": f"CAD{rng.randint(1000, 9999)}/"
                f"{received.strftime('%d%b%y').upper()}",
                "occurred_at": occurred.isoformat(),
                "received_at": received.isoformat(),
                "borough": borough,
                "location": f"{rng.randint(1, 120)} {rng.choice(STREETS)}, London",
                "summary": "Synthetic demo incident: verbal argument reported by a neighbour.",
                "risk": {"actuarial": grade, "judgement": None, "rationale": ""},
                "adults": adults,
                "children": children,
            }
        )
    return out


DESK = Actor(user_id=None, label="system:demo", role=Role.DESK_OFFICER)


def send_referrals(keep_unsent: int = 3) -> int:
    """Route and send every demo incident but the newest few (left for the desk to route), each
    an hour after the desk received it, so that its clocks run from then as they would have."""
    incidents = db.session.scalars(
        select(Incident)
        .where(Incident.status == IncidentStatus.LOGGED)
        .order_by(Incident.received_at.desc())
    ).all()
    sent = 0
    for incident in incidents[keep_unsent:]:
        with clock.frozen(min(incident.received_at + timedelta(hours=1), clock.now())):
            sent += len(routing.send(DESK, incident.id))
    return sent


def stage_work() -> list[str]:
    """Give every screen something to show on whatever day the demo starts, through the same
    services people use: a declined referral, an unanswered question, a paused referral, one
    due within two hours, and a notice e-mail that failed. Returns what was staged."""
    now = clock.now()
    open_ = list(
        db.session.scalars(
            select(Referral)
            .where(Referral.state.in_([ReferralState.SENT, ReferralState.VIEWED]))
            .order_by(Referral.clock_due_at, Referral.id)
        )
    )
    partners = {
        u.agency_id: Actor.of(u)
        for u in db.session.scalars(select(User).where(User.role == Role.PARTNER))
    }
    theirs = [r for r in open_ if r.agency_id in partners]
    staged: list[str] = []
    if theirs:
        first = theirs[0]
        reason = profile(first.agency.kind).decline_reasons[0][0]
        lifecycle.decline(partners[first.agency_id], first.id, reason, "Demo: not ours to act on.")
        staged.append(f"{first.reference} declined")
    if len(theirs) > 1:
        second = theirs[1]
        lifecycle.post_message(
            partners[second.agency_id],
            second,
            "Demo: which of the adults holds parental responsibility?",
            from_desk=False,
        )
        staged.append(f"{second.reference} has a question for the desk")
    rest = [r for r in open_ if r not in theirs[:2]]
    if rest:
        lifecycle.pause(DESK, rest[0].id, "Demo: the family is moving; awaiting the new address.")
        staged.append(f"{rest[0].reference} paused")
    overdue = [r for r in rest[1:] if r.clock_due_at is not None and r.clock_due_at < now]
    if overdue:
        soon = overdue[0]
        supervision.extend(
            DESK,
            soon.id,
            now + timedelta(minutes=90),
            "Demo: agreed by phone with the front door's duty manager.",
        )
        staged.append(f"{soon.reference} due within two hours")
    failed = _fail_one_email(now)
    if failed:
        staged.append("one notice e-mail failed")
    oldest = db.session.scalars(select(Incident).order_by(Incident.occurred_at)).first()
    if oldest is not None:
        # The demo's incidents are days old, not six years: the oldest one was retained at an
        # earlier review (as a reviewer would record it) until today, so the queue has one.
        today = clock.london_day(now)
        oldest.review_on = today
        db.session.add(
            RetentionReview(
                incident_id=oldest.id,
                decided_at=now - timedelta(days=1),
                reviewer_id=None,
                rationale="Demo: kept for a family court hearing; review again today.",
                next_review_on=today,
            )
        )
        staged.append(f"incident {oldest.police_reference} due for its retention review")
    return staged


def _fail_one_email(now: datetime) -> bool:
    """One notice that the recipient's mail server refused: the relay's own steps (claim, then
    a failed last attempt), so the board shows it with "try again"."""
    claimed = outbox.claim("demo", now, timedelta(minutes=5), limit=1)
    for message_id in claimed:
        outbox.mark_failed_attempt(
            message_id, "demo", now, "Demo: 550 mailbox unavailable (synthetic)", max_attempts=1
        )
    return bool(claimed)
