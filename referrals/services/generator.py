"""Synthetic London at volume, for benchmarks: ``flask --app wsgi demo generate --incidents N``.

Realistic shape: boroughs weighted by child population, one to four children, a few thousand
synthetic schools, a risk mix, repeat victimisation (the same child again within months), times
spread over years, and partners who acknowledge on time, late or never. Every incident passes
:func:`referrals.services.intake.validate`; identities are sealed by the identity store's own
code; pseudonyms come from the same keyed HMAC; the audit chain is extended with the same hash.
This module shapes the rows; :mod:`referrals.services.bulk_load` writes them in bulk in a second
process, a batch per transaction, because going through the ORM one incident at a time would take
hours at a million. Historic e-mails are not generated.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from referrals import clock
from referrals.calendars import DeadlineRule, RuleKind, SchoolCalendar, WorkingCalendar, due_time
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditKind
from referrals.models.escalation import Escalation, EscalationStep
from referrals.models.incident import Incident, IncidentPerson, PersonRole, RiskGrade
from referrals.models.person import Person, PersonKind
from referrals.models.referral import Referral, ReferralEvent, ReferralState
from referrals.models.routing import DeadlinePolicy, RuleCode
from referrals.reference import BOROUGHS
from referrals.runtime import runtime
from referrals.services import admin, identity_store, intake, pseudonyms
from referrals.services.actors import Actor
from referrals.services.ages import age_band
from referrals.services.bulk_load import Batch, as_tuples
from referrals.services.intake import AdultInput, ChildInput, IncidentInput
from referrals.services.outcomes import outcomes_for
from referrals.synthetic import FAMILY, GIVEN, SCHOOL_KINDS, SCHOOL_WORDS, STREETS

# Relative numbers of children by borough: synthetic approximations of the published shape
# (outer boroughs large, the City tiny), not official statistics.
BOROUGH_WEIGHTS = {
    "E09000001": 1,
    "E09000002": 62,
    "E09000003": 95,
    "E09000004": 55,
    "E09000005": 75,
    "E09000006": 70,
    "E09000007": 45,
    "E09000008": 98,
    "E09000009": 85,
    "E09000010": 90,
    "E09000011": 68,
    "E09000012": 62,
    "E09000013": 35,
    "E09000014": 55,
    "E09000015": 60,
    "E09000016": 58,
    "E09000017": 75,
    "E09000018": 70,
    "E09000019": 42,
    "E09000020": 28,
    "E09000021": 40,
    "E09000022": 60,
    "E09000023": 68,
    "E09000024": 48,
    "E09000025": 90,
    "E09000026": 82,
    "E09000027": 45,
    "E09000028": 62,
    "E09000029": 50,
    "E09000030": 70,
    "E09000031": 65,
    "E09000032": 65,
    "E09000033": 35,
}
SCHOOLS_PER_WEIGHT = 1.6  # about 3,000 schools across London
FIRST_URN = 700000
REPEAT_CHANCE = 0.15
STALE_AFTER = timedelta(days=14)  # a child seen before, within months (repeat victimisation)
CHILDREN_WEIGHTS = ((1, 45), (2, 30), (3, 17), (4, 8))
GRADES = ((RiskGrade.STANDARD, 45), (RiskGrade.MEDIUM, 40), (RiskGrade.HIGH, 15))


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


# The tables the generator writes, in an order that satisfies their foreign keys.
TABLES = (
    "sealed_values",
    "people",
    "incidents",
    "incident_people",
    "referrals",
    "referral_events",
    "escalations",
    "audit_events",
)


@dataclass
class Report:
    incidents: int = 0
    people: int = 0
    referrals: int = 0
    audit_events: int = 0
    rows: int = 0

    def add(self, other: Report) -> None:
        for name in ("incidents", "people", "referrals", "audit_events", "rows"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Ids:
    values: dict[str, int] = field(default_factory=dict)

    def next(self, table: str) -> int:
        self.values[table] += 1
        return self.values[table]


def ensure_borough_agencies(actor: Actor, existing: set[str]) -> int:
    """Each borough's children's social care front door and MARAC coordinator, where missing
    (``existing`` holds the agency codes already there). Shared by the demo data."""
    made = 0
    for code, name in BOROUGHS.items():
        for kind, prefix, label in (
            (AgencyKind.CHILDRENS_SOCIAL_CARE, "CSC", "children's social care front door"),
            (AgencyKind.MARAC, "MARAC", "MARAC coordinator"),
        ):
            if f"{prefix}-{code}" not in existing:
                admin.create_agency(
                    actor,
                    admin.AgencyInput(
                        code=f"{prefix}-{code}",
                        name=f"{name} {label}",
                        kind=kind,
                        borough_code=code,
                        notice_email=f"{prefix.lower()}@{code.lower()}.example",
                    ),
                )
                made += 1
    return made


def ensure_reference_data() -> int:
    """Front doors, MARAC coordinators and a few thousand schools, if not there yet."""
    actor = Actor.system("generator")
    existing = {a.code for a in db.session.scalars(select(Agency))}
    made = ensure_borough_agencies(actor, existing)
    urn = FIRST_URN
    for code, weight in BOROUGH_WEIGHTS.items():
        for n in range(max(1, round(weight * SCHOOLS_PER_WEIGHT))):
            if f"SCH-{urn}" not in existing:
                word = SCHOOL_WORDS[(urn + n) % len(SCHOOL_WORDS)]
                school_kind = SCHOOL_KINDS[urn % len(SCHOOL_KINDS)]
                admin.create_agency(
                    actor,
                    admin.AgencyInput(
                        code=f"SCH-{urn}",
                        name=f"{word} {school_kind} {urn} ({BOROUGHS[code]})",
                        kind=AgencyKind.SCHOOL,
                        borough_code=code,
                        school_urn=str(urn),
                        notice_email=f"dsl@{urn}.example",
                    ),
                )
                made += 1
            urn += 1
    return made


class Generator:
    """Generates incidents in order of time, ``batch`` at a time; the caller commits each."""

    def __init__(
        self, total: int, *, seed: int = 2026, years: float = 3.0, end: datetime | None = None
    ) -> None:
        self.rng = random.Random(seed)
        self.total = total
        self.end = (end or clock.now()).astimezone(UTC)
        self.start = self.end - timedelta(days=365 * years)
        self.linkage_key = runtime().linkage_key
        agencies = list(db.session.scalars(select(Agency).where(Agency.active.is_(True))))
        for agency in agencies:
            # Detached, so that committing each batch does not expire them and reload each one.
            db.session.expunge(agency)
        self.front_door = {
            a.borough_code: a for a in agencies if a.kind is AgencyKind.CHILDRENS_SOCIAL_CARE
        }
        self.marac = {a.borough_code: a for a in agencies if a.kind is AgencyKind.MARAC}
        self.schools: dict[str, list[Agency]] = {}
        for a in agencies:
            if a.kind is AgencyKind.SCHOOL and a.borough_code:
                self.schools.setdefault(a.borough_code, []).append(a)
        self.by_urn = {a.school_urn: a for a in agencies if a.school_urn}
        self.boroughs = [b for b in BOROUGH_WEIGHTS if b in self.front_door]
        self.weights = [BOROUGH_WEIGHTS[b] for b in self.boroughs]
        self.rules = self._rules()
        self.calendars: dict[int, tuple[WorkingCalendar, SchoolCalendar | None]] = {}
        self.people: dict[str, tuple[int, str]] = {
            h: (pid, p)
            for pid, p, h in db.session.execute(
                select(Person.id, Person.pseudonym, Person.link_hash).where(
                    Person.link_hash.is_not(None)
                )
            )
            if h
        }
        self.pseudonyms = set(db.session.scalars(select(Person.pseudonym)))
        self.history: dict[int, deque[datetime]] = {}
        self.recent_children: dict[str, deque[tuple[str, str, date, str]]] = {}
        self.ids = _Ids(
            {
                name: int(db.session.scalar(select(func.coalesce(func.max(col), 0))) or 0)
                for name, col in (
                    ("incidents", Incident.id),
                    ("people", Person.id),
                    ("incident_people", IncidentPerson.id),
                    ("referrals", Referral.id),
                    ("referral_events", ReferralEvent.id),
                    ("escalations", Escalation.id),
                )
            }
        )
        self.done = 0
        self.report = Report()
        self.sqlite = db.session.get_bind().dialect.name == "sqlite"
        self.in_incident: set[int] = set()

    def _rules(self) -> dict[AgencyKind, DeadlineRule]:
        found: dict[AgencyKind, DeadlineRule] = {}
        for p in db.session.scalars(
            select(DeadlinePolicy)
            .where(DeadlinePolicy.risk_grade.is_(None))
            .order_by(DeadlinePolicy.effective_from)
        ):
            found[p.agency_kind] = DeadlineRule(p.rule_kind, p.amount)
        return found

    # --- shaping one incident ------------------------------------------------------------------

    def _dob(self, on: date, lo: int, hi: int) -> date:
        return on - timedelta(days=self.rng.randint(lo * 365 + 1, hi * 365 + 364))

    def _child(self, borough: str, on: date, taken: set[tuple[str, str, date]]) -> ChildInput:
        rng = self.rng
        recent = self.recent_children.get(borough)
        if recent and rng.random() < REPEAT_CHANCE:
            given, family, dob, urn = rng.choice(recent)
            if (on - dob).days < 18 * 365 - 30 and (given, family, dob) not in taken:
                taken.add((given, family, dob))
                return self._child_input(given, family, dob, borough, urn)
        dob = self._dob(on, 0, 17)
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        taken.add((given, family, dob))
        age = (on - dob).days // 365
        urn = ""
        if 4 <= age <= 17 and rng.random() < 0.92 and self.schools.get(borough):
            urn = rng.choice(self.schools[borough]).school_urn or ""
        pool = self.recent_children.setdefault(borough, deque(maxlen=400))
        pool.append((given, family, dob, urn))
        return self._child_input(given, family, dob, borough, urn)

    def _child_input(
        self, given: str, family: str, dob: date, borough: str, urn: str
    ) -> ChildInput:
        rng = self.rng
        present = rng.random() < 0.6
        return ChildInput(
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            address=f"{rng.randint(1, 200)} {rng.choice(STREETS)}, London",
            borough_code=borough,
            lives_there=rng.random() < 0.9,
            present=present,
            present_where=rng.choice(("bedroom", "living room", "kitchen", "hallway"))
            if present
            else "",
            spoken_to=present and rng.random() < 0.4,
            voice="Said they were scared of the shouting."
            if present and rng.random() < 0.3
            else "",
            school_urn=urn,
            home_educated=not urn and rng.random() < 0.02 and (dob.year < self.end.year - 5),
            known_to_social_care=rng.choice((True, False, False, None)),
        )

    def _incident(self, index: int) -> IncidentInput:
        rng = self.rng
        span = (self.end - self.start).total_seconds()
        received = self.start + timedelta(seconds=span * (index + rng.random()) / self.total)
        received = min(received, self.end - timedelta(minutes=1))
        occurred = received - timedelta(minutes=rng.randint(20, 600))
        borough = rng.choices(self.boroughs, weights=self.weights)[0]
        on = occurred.astimezone(UTC).date()
        family = rng.choice(FAMILY)
        adults = [
            AdultInput(
                role=PersonRole.VICTIM,
                given_name=rng.choice(GIVEN),
                family_name=family,
                date_of_birth=self._dob(on, 19, 55),
                address=f"{rng.randint(1, 200)} {rng.choice(STREETS)}, London",
                phone=f"07700 9{rng.randint(10000, 99999)}",
            )
        ]
        if rng.random() < 0.9:
            adults.append(
                AdultInput(
                    role=PersonRole.SUSPECT,
                    given_name=rng.choice(GIVEN),
                    family_name=rng.choice(FAMILY),
                    date_of_birth=self._dob(on, 19, 60) if rng.random() < 0.8 else None,
                )
            )
        if len(adults) == 2 and (adults[0].given_name, adults[0].date_of_birth) == (
            adults[1].given_name,
            adults[1].date_of_birth,
        ):
            adults[1].date_of_birth = None  # intake refuses one person entered twice
        taken: set[tuple[str, str, date]] = set()
        children = [
            self._child(borough, on, taken) for _ in range(_weighted(rng, CHILDREN_WEIGHTS))
        ]
        return IncidentInput(
            submission_key=f"generated:{uuid.uuid4().hex}",
            police_reference=f"CAD{rng.randint(1000, 9999)}/{received:%d%b%y}".upper(),
            occurred_at=occurred,
            received_at=received,
            borough_code=borough,
            location=f"{rng.randint(1, 200)} {rng.choice(STREETS)}, London",
            summary="Synthetic: a neighbour reported shouting; officers attended.",
            risk_actuarial=_weighted(rng, GRADES),
            adults=adults,
            children=children,
            source="generated",
        )

    # --- rows ----------------------------------------------------------------------------------

    def _person(
        self,
        kind: PersonKind,
        given: str,
        family: str,
        dob: date | None,
        rows: dict[str, list[dict[str, Any]]],
        now: datetime,
    ) -> tuple[int, str, bool]:
        link = pseudonyms.link_hash(self.linkage_key, given, family, dob)
        if link is not None and link in self.people:
            pid, pseudonym = self.people[link]
            if pid not in self.in_incident:
                self.in_incident.add(pid)
                return pid, pseudonym, True
            link = None  # the same identifiers twice in one household: keep them apart
        for attempt in range(20):
            pseudonym = pseudonyms._candidate(kind, link, attempt)
            if pseudonym not in self.pseudonyms:
                break
        self.pseudonyms.add(pseudonym)
        pid = self.ids.next("people")
        rows["people"].append(
            {
                "id": pid,
                "pseudonym": pseudonym,
                "kind": kind.value,
                "link_hash": link,
                "created_at": now,
            }
        )
        if link is not None:
            self.people[link] = (pid, pseudonym)
        self.in_incident.add(pid)
        return pid, pseudonym, False

    def _calendars(self, agency: Agency) -> tuple[WorkingCalendar, SchoolCalendar | None]:
        if agency.id not in self.calendars:
            working = WorkingCalendar(start=agency.work_start, end=agency.work_end)
            school = (
                (
                    SchoolCalendar(day_start=agency.school_day_start)
                    if agency.school_day_start
                    else SchoolCalendar()
                )
                if (agency.kind is AgencyKind.SCHOOL)
                else None
            )
            self.calendars[agency.id] = (working, school)
        return self.calendars[agency.id]

    def _audit(
        self,
        rows: dict[str, list[dict[str, Any]]],
        at: datetime,
        actor: str,
        kind: AuditKind,
        action: str,
        record_type: str,
        record_id: int,
        recipients: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        # seq, prev_hash and hash are added by the writer, which extends the chain (write_batch).
        values: dict[str, Any] = {
            "occurred_at": at,
            "actor_id": None,
            "actor_label": actor,
            "agency_id": None,
            "kind": kind.value,
            "action": action,
            "record_type": record_type,
            "record_id": str(record_id),
            "recipients": recipients,
            "reason": None,
            "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")) if detail else None,
        }
        rows["audit_events"].append(values)

    def build(self, size: int) -> Batch:
        """The next ``size`` incidents as rows, ready for :func:`write_batch`."""
        rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        now = clock.now()
        report = Report()
        for _ in range(min(size, self.total - self.done)):
            self._one(self._incident(self.done), rows, now, report)
            self.done += 1
        events = rows.pop("audit_events")
        tables = [
            as_tuples(table, rows[table], sqlite=self.sqlite) for table in TABLES if rows.get(table)
        ]
        report.audit_events = len(events)
        report.rows = sum(len(t.rows) for t in tables) + len(events)
        self.report.add(report)
        return Batch(tables, events, report.incidents)

    def _seal(
        self, rows: dict[str, list[dict[str, Any]]], purpose: str, value: str, now: datetime
    ) -> str | None:
        if not value:
            return None
        row = identity_store.sealed_row(purpose, value)
        row["created_at"] = now
        rows["sealed_values"].append(row)
        return str(row["id"])

    def _one(
        self,
        data: IncidentInput,
        rows: dict[str, list[dict[str, Any]]],
        now: datetime,
        report: Report,
    ) -> None:
        errors, _ = intake.validate(data, known_schools=self.by_urn)
        if errors:
            raise ValueError(f"generated an invalid incident: {errors}")
        assert data.occurred_at and data.received_at and data.risk_actuarial
        iid = self.ids.next("incidents")
        grade = data.risk_actuarial
        received = data.received_at
        rows["incidents"].append(
            {
                "id": iid,
                "police_reference": data.police_reference,
                "occurred_at": data.occurred_at,
                "received_at": received,
                "borough_code": data.borough_code,
                "location_sealed_id": self._seal(rows, "incident.location", data.location, now),
                "summary_sealed_id": self._seal(rows, "incident.summary", data.summary, now),
                "risk_actuarial": grade.value,
                "risk_judgement": None,
                "risk_rationale_sealed_id": None,
                "risk_grade": grade.value,
                "status": "routed",
                "child_count": len(data.children),
                "source": "generated",
                "submission_key": data.submission_key,
                "created_by_id": None,
                "created_at": received,
            }
        )
        report.incidents += 1
        on = data.occurred_at.date()
        self.in_incident = set()
        links: list[tuple[int, PersonRole, ChildInput | None]] = []
        people_before = len(rows["people"])
        people: list[tuple[PersonRole, AdultInput | ChildInput]] = [
            *((a.role or PersonRole.OTHER_ADULT, a) for a in data.adults),
            *((PersonRole.CHILD, c) for c in data.children),
        ]
        for position, (role, person) in enumerate(people):
            child = person if isinstance(person, ChildInput) else None
            lid = self._link(iid, position, role, person, child, data, rows, on)
            links.append((lid, role, child))
        report.people += len(rows["people"]) - people_before
        self._audit(
            rows,
            received,
            "system:generator",
            AuditKind.COLLECTION,
            "incident.logged",
            "incident",
            iid,
            detail={
                "source": "generated",
                "adults": len(data.adults),
                "children": len(data.children),
            },
        )
        self._referrals(iid, grade, data.borough_code, received, links, rows, now, report)

    def _link(
        self,
        iid: int,
        position: int,
        role: PersonRole,
        person: AdultInput | ChildInput,
        child: ChildInput | None,
        data: IncidentInput,
        rows: dict[str, list[dict[str, Any]]],
        on: date,
    ) -> int:
        """The person (found by pseudonym or new) and their part in this incident."""
        assert data.occurred_at and data.received_at
        received = data.received_at
        kind = PersonKind.CHILD if child else PersonKind.ADULT
        pid, pseudonym, matched = self._person(
            kind, person.given_name, person.family_name, person.date_of_birth, rows, received
        )
        seen = self.history.setdefault(pid, deque(maxlen=20))
        window = data.occurred_at - intake.SEEN_BEFORE_WINDOW
        seen_before = sum(1 for t in seen if window <= t < data.occurred_at)
        seen.append(data.occurred_at)
        if matched:
            self._audit(
                rows,
                received,
                "system:generator",
                AuditKind.COMBINATION,
                "person.matched",
                "person",
                pid,
                detail={
                    "incident": iid,
                    "pseudonym": pseudonym,
                    "earlier_incidents_12_months": seen_before,
                },
            )
        lid = self.ids.next("incident_people")
        identity = json.dumps(
            {
                "given_name": person.given_name,
                "family_name": person.family_name,
                "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
                "address": person.address,
                "phone": person.phone if isinstance(person, AdultInput) else "",
            },
            sort_keys=True,
        )
        school = self.by_urn.get(child.school_urn) if child and child.school_urn else None
        rows["incident_people"].append(
            {
                "id": lid,
                "incident_id": iid,
                "person_id": pid,
                "position": position,
                "role": role.value,
                "identity_sealed_id": self._seal(rows, "person.identity", identity, received),
                "age_band": age_band(person.date_of_birth, on),
                "borough_code": child.borough_code if child else None,
                "lives_there": child.lives_there if child else None,
                "present": child.present if child else None,
                "present_where_sealed_id": self._seal(
                    rows, "child.present_where", child.present_where, received
                )
                if child
                else None,
                "spoken_to": child.spoken_to if child else None,
                "voice_sealed_id": self._seal(rows, "child.voice", child.voice, received)
                if child
                else None,
                "school_id": school.id if school else None,
                "home_educated": bool(child and child.home_educated),
                "known_to_social_care": child.known_to_social_care if child else None,
                "seen_before_count": seen_before,
            }
        )
        return lid

    def _referrals(
        self,
        iid: int,
        grade: RiskGrade,
        borough: str,
        received: datetime,
        links: list[tuple[int, PersonRole, ChildInput | None]],
        rows: dict[str, list[dict[str, Any]]],
        now: datetime,
        report: Report,
    ) -> None:
        rng = self.rng
        targets: list[tuple[int, Agency, RuleCode, bool]] = []
        for lid, role, child in links:
            if child is not None:
                known = bool(child.known_to_social_care)
                door = self.front_door[child.borough_code]
                targets.append((lid, door, RuleCode.CHILD_TO_SOCIAL_CARE, known))
                if child.school_urn:
                    targets.append(
                        (lid, self.by_urn[child.school_urn], RuleCode.CHILD_TO_SCHOOL, known)
                    )
            elif role is PersonRole.VICTIM and grade is RiskGrade.HIGH:
                marac = self.marac.get(borough)
                if marac is not None:
                    targets.append((lid, marac, RuleCode.HIGH_RISK_VICTIM_TO_MARAC, False))
        sent = received + timedelta(minutes=rng.randint(5, 90))
        for lid, agency, rule_code, known in targets:
            working, school = self._calendars(agency)
            rule = self.rules.get(agency.kind, DeadlineRule(RuleKind.WORKING_DAYS, 1))
            due = due_time(rule, received, now=sent, working=working, school=school)
            rid = self.ids.next("referrals")
            row: dict[str, Any] = {
                "id": rid,
                "incident_id": iid,
                "subject_id": lid,
                "agency_id": agency.id,
                "rule_code": rule_code.value,
                "state": ReferralState.SENT.value,
                "known_to_social_care": known,
                "version": 1,
                "sent_at": sent,
                "sent_by_id": None,
                "due_at": due,
                "deadline_rule": rule.describe(),
                "viewed_at": None,
                "acknowledged_at": None,
                "acknowledged_by_id": None,
                "decided_at": None,
                "decided_by_id": None,
                "decision": None,
                "decision_note_sealed_id": None,
                "declined_at": None,
                "declined_by_id": None,
                "decline_reason_sealed_id": None,
                "withdrawn_at": None,
                "withdrawn_by_id": None,
                "paused_at": None,
                "pause_reason": None,
                "escalation_level": 0,
                "next_escalation_at": due,
                "owner_id": None,
            }
            events: list[tuple[datetime, str, str | None]] = [(sent, "sent", None)]
            self._audit(
                rows,
                sent,
                "system:generator",
                AuditKind.DISCLOSURE,
                "referral.sent",
                "referral",
                rid,
                recipients=agency.code,
            )
            behaviour = rng.random()
            if due < now:
                if behaviour < 0.9:  # acknowledged: 70% on time, 20% late
                    ack = (
                        sent + (due - sent) * rng.random()
                        if behaviour < 0.7
                        else due + timedelta(hours=rng.uniform(0.5, 48))
                    )
                    ack = min(ack, now)
                    row.update(
                        state=ReferralState.ACKNOWLEDGED.value,
                        viewed_at=ack,
                        acknowledged_at=ack,
                        next_escalation_at=None,
                        version=3,
                    )
                    events += [(ack, "viewed", None), (ack, "acknowledged", None)]
                    self._audit(
                        rows,
                        ack,
                        "system:generator",
                        AuditKind.ALTERATION,
                        "referral.acknowledged",
                        "referral",
                        rid,
                    )
                    decided = ack + timedelta(hours=rng.uniform(1, 72))
                    if decided < now and rng.random() < 0.85:
                        code, label = rng.choice(outcomes_for(agency.kind))
                        row.update(
                            state=ReferralState.DECIDED.value,
                            decided_at=decided,
                            decision=code,
                            version=4,
                        )
                        events.append((decided, "decided", label))
                else:  # never: the ladder ran its course
                    row.update(
                        state=ReferralState.VIEWED.value,
                        viewed_at=sent,
                        escalation_level=3,
                        next_escalation_at=None,
                        version=2,
                    )
                    events.append((sent, "viewed", None))
                    for step, hours in (
                        (EscalationStep.REMINDER, 0),
                        (EscalationStep.DUTY_MANAGER, 2),
                        (EscalationStep.SUPERVISOR, 4),
                    ):
                        at = due + timedelta(hours=hours)
                        rows["escalations"].append(
                            {
                                "id": self.ids.next("escalations"),
                                "referral_id": rid,
                                "step": step.value,
                                "at": at,
                                "recipients": agency.notice_email or "nobody: no address on record",
                                "by": "generator",
                            }
                        )
                        events.append((at, step.label.lower(), None))
                        self._audit(
                            rows,
                            at,
                            "system:generator",
                            AuditKind.DISCLOSURE,
                            f"referral.escalated.{step.value}",
                            "referral",
                            rid,
                            recipients=agency.notice_email,
                        )
                    closed = due + STALE_AFTER
                    if closed < now:
                        # The desk closes what a partner never answered, after the ladder and a
                        # fortnight of chasing; only recent silence stays on the board.
                        row.update(
                            state=ReferralState.WITHDRAWN.value, withdrawn_at=closed, version=3
                        )
                        events.append((closed, "withdrawn", "no response from the partner"))
                        self._audit(
                            rows,
                            closed,
                            "system:generator",
                            AuditKind.ALTERATION,
                            "referral.withdrawn",
                            "referral",
                            rid,
                        )
            rows["referrals"].append(row)
            for at, action, detail in events:
                rows["referral_events"].append(
                    {
                        "id": self.ids.next("referral_events"),
                        "referral_id": rid,
                        "at": at,
                        "actor_id": None,
                        "actor_label": "system:generator",
                        "action": action,
                        "detail": detail,
                    }
                )
            report.referrals += 1
