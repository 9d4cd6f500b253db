"""Synthetic London at volume, for benchmarks: ``flask --app wsgi demo generate --incidents N``.

Realistic shape: boroughs weighted by child population, one to four children, a few thousand
synthetic schools, a risk mix, repeat victimisation (the same child again within months), times
spread over years, and partners who acknowledge on time, late or never.

Generated data goes through the desk's own rules: every incident passes
:func:`referrals.services.intake.validate`; its desk deadlines come from
:func:`referrals.services.intake.desk_clocks`; it is routed by
:func:`referrals.services.routing.routes` with the routing rules in force on the day it is
sent; each referral's clocks and first ladder step come from
:func:`referrals.services.routing.initial_clocks`; and what happens next is played through the
one transition table (:mod:`referrals.services.generated_history`). Identities are sealed by
the identity store's own code; pseudonyms come from the same keyed HMAC; the audit chain is
extended with the same hash. Only the writing is different: this module shapes rows and
:mod:`referrals.services.bulk_load` writes them in bulk in a second process, a batch per
transaction, because the ORM one incident at a time would take hours at a million. Historic
e-mails are not generated.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditKind
from referrals.models.calendar import SchoolClosure
from referrals.models.escalation import DeskEscalation, Escalation
from referrals.models.incident import DeskClock, Incident, IncidentPerson, PersonRole, RiskGrade
from referrals.models.person import Person, PersonKind
from referrals.models.referral import Referral, ReferralEvent, ReferralNameToken
from referrals.models.routing import RoutingRule, RuleCode
from referrals.models.user import Role, User
from referrals.narrowing import given
from referrals.runtime import runtime
from referrals.services import (
    deadlines,
    escalation,
    identity_store,
    intake,
    name_search,
    pseudonyms,
    routing,
)
from referrals.services.ages import age_band
from referrals.services.bulk_load import Batch, as_tuples
from referrals.services.generated_history import Ids, Rows, Timeline, audit_row
from referrals.services.generated_history import Referral as Played
from referrals.services.intake import AdultInput, ChildInput, IncidentInput
from referrals.synthetic import BOROUGH_WEIGHTS, FAMILY, GIVEN, STREETS

REPEAT_CHANCE = 0.15  # a child seen before, within months (repeat victimisation)


@dataclass(frozen=True)
class Shares:
    """How often each thing is true of a generated household: one place for the mix."""

    at_school: float = 0.92  # a child of school age on a school's roll in the borough
    present: float = 0.6  # a child present at the incident
    lives_there: float = 0.9  # a child living at the address
    spoken_to: float = 0.4  # a present child spoken to by officers
    voice: float = 0.3  # a present child's own words recorded
    home_educated: float = 0.02  # a child of school age on no roll, home educated
    suspect_named: float = 0.9  # a suspect among the adults
    suspect_born_known: float = 0.8  # the suspect's date of birth known


SHARES = Shares()
CHILDREN_WEIGHTS = ((1, 45), (2, 30), (3, 17), (4, 8))
GRADES = ((RiskGrade.STANDARD, 45), (RiskGrade.MEDIUM, 40), (RiskGrade.HIGH, 15))
# Minutes from receipt to sending: the desk is quick with high risk, slower otherwise; some
# sends pass the triage or Operation Encompass deadline, and are recorded as the desk's breach.
SEND_DELAY = {RiskGrade.HIGH: (5, 70), RiskGrade.MEDIUM: (10, 200), RiskGrade.STANDARD: (10, 480)}


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
    "referral_name_tokens",
    "escalations",
    "desk_escalations",
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


@dataclass(frozen=True)
class Planned:
    """A referral as the rules make it: who, to whom, why, and its clocks."""

    position: int
    agency: Agency
    rules: tuple[RuleCode, ...]
    clocks: dict[str, Any]


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
        self.rule_rows = list(db.session.scalars(select(RoutingRule)))
        for row in [*agencies, *self.rule_rows]:
            # Detached, so that committing each batch does not expire them and reload each one.
            db.session.expunge(row)
        self.front_door = routing.by_borough(agencies, AgencyKind.CHILDRENS_SOCIAL_CARE)
        self.marac = routing.by_borough(agencies, AgencyKind.MARAC)
        self.schools: dict[str, list[Agency]] = {}
        for a in agencies:
            if a.kind is AgencyKind.SCHOOL and a.borough_code:
                self.schools.setdefault(a.borough_code, []).append(a)
        self.by_urn = {a.school_urn: a for a in agencies if a.school_urn}
        self.boroughs = [b for b in BOROUGH_WEIGHTS if b in self.front_door]
        self.weights = [BOROUGH_WEIGHTS[b] for b in self.boroughs]
        self.book = deadlines.policy_book()
        self.ladders = escalation.ladders()
        self.desk = deadlines.desk_calendar()
        self.closed = self._closures(agencies)
        self.calendars: dict[int, deadlines.Calendars] = {}
        self.supervisors = list(
            db.session.scalars(
                select(User.email)
                .where(User.role == Role.SUPERVISOR, User.active.is_(True))
                .order_by(User.id)
            )
        )
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
        self.ids = Ids(
            {
                name: int(db.session.scalar(select(func.coalesce(func.max(col), 0))) or 0)
                for name, col in (
                    ("incidents", Incident.id),
                    ("people", Person.id),
                    ("incident_people", IncidentPerson.id),
                    ("referrals", Referral.id),
                    ("referral_events", ReferralEvent.id),
                    ("referral_name_tokens", ReferralNameToken.id),
                    ("escalations", Escalation.id),
                    ("desk_escalations", DeskEscalation.id),
                )
            }
        )
        self.done = 0
        self.report = Report()
        self.sqlite = db.session.get_bind().dialect.name == "sqlite"
        self.in_incident: set[int] = set()

    def _closures(self, agencies: list[Agency]) -> dict[int, frozenset[date]]:
        """Each school's closed days (its own and its borough's), read once."""
        by_borough: dict[str, set[date]] = {}
        by_school: dict[int, set[date]] = {}
        for row in db.session.scalars(select(SchoolClosure)):
            days = {
                row.starts_on + timedelta(days=n)
                for n in range((row.ends_on - row.starts_on).days + 1)
            }
            if row.school_id is not None:
                by_school.setdefault(row.school_id, set()).update(days)
            elif row.borough_code:
                by_borough.setdefault(row.borough_code, set()).update(days)
        return {
            a.id: frozenset(
                by_school.get(a.id, set()) | by_borough.get(a.borough_code or "", set())
            )
            for a in agencies
            if a.kind is AgencyKind.SCHOOL
        }

    def _calendars(self, agency: Agency) -> deadlines.Calendars:
        if agency.id not in self.calendars:
            closed = self.closed.get(agency.id, frozenset())
            self.calendars[agency.id] = deadlines.build_calendars(agency, closed)
        return self.calendars[agency.id]

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
        if 4 <= age <= 17 and rng.random() < SHARES.at_school and self.schools.get(borough):
            urn = rng.choice(self.schools[borough]).school_urn or ""
        pool = self.recent_children.setdefault(borough, deque(maxlen=400))
        pool.append((given, family, dob, urn))
        return self._child_input(given, family, dob, borough, urn)

    def _child_input(
        self, given: str, family: str, dob: date, borough: str, urn: str
    ) -> ChildInput:
        rng = self.rng
        present = rng.random() < SHARES.present
        return ChildInput(
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            address=f"{rng.randint(1, 200)} {rng.choice(STREETS)}, London",
            borough_code=borough,
            lives_there=rng.random() < SHARES.lives_there,
            present=present,
            present_where=rng.choice(("bedroom", "living room", "kitchen", "hallway"))
            if present
            else "",
            spoken_to=present and rng.random() < SHARES.spoken_to,
            voice="Said they were scared of the shouting."
            if present and rng.random() < SHARES.voice
            else "",
            school_urn=urn,
            home_educated=not urn
            and rng.random() < SHARES.home_educated
            and (dob.year < self.end.year - 5),
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
        if rng.random() < SHARES.suspect_named:
            adults.append(
                AdultInput(
                    role=PersonRole.SUSPECT,
                    given_name=rng.choice(GIVEN),
                    family_name=rng.choice(FAMILY),
                    date_of_birth=self._dob(on, 19, 60)
                    if rng.random() < SHARES.suspect_born_known
                    else None,
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

    # --- through the desk's rules ----------------------------------------------------------------

    def desk_clocks(self, data: IncidentInput) -> dict[str, datetime | None]:
        return intake.desk_clocks(
            given(data.risk_actuarial, "risk_actuarial"),
            given(data.received_at, "received_at"),
            intake.schools_of(data, self.by_urn),
            self.book,
            self.desk,
            self.closed,
        )

    def plan(self, data: IncidentInput, sent: datetime, pseudonyms_: list[str]) -> list[Planned]:
        """The referrals the routing rules in force on the day of sending make for this
        incident, with their clocks: what :func:`referrals.services.routing.send` would make."""
        received = given(data.received_at, "received_at")
        risk = given(data.risk_actuarial, "risk_actuarial")
        people: list[tuple[PersonRole, AdultInput | ChildInput]] = [
            *((a.role or PersonRole.OTHER_ADULT, a) for a in data.adults),
            *((PersonRole.CHILD, c) for c in data.children),
        ]
        on = clock.to_london(data.occurred_at or received).date()
        subjects = [
            routing.Subject(
                key=position,
                role=role,
                age_band=age_band(who.date_of_birth, on),
                borough_code=who.borough_code if isinstance(who, ChildInput) else None,
                school=self.by_urn.get(who.school_urn.strip())
                if isinstance(who, ChildInput) and who.school_urn.strip()
                else None,
                home_educated=isinstance(who, ChildInput) and who.home_educated,
                pseudonym=pseudonyms_[position],
            )
            for position, (role, who) in enumerate(people)
        ]
        found, _warnings = routing.routes(
            subjects,
            borough=data.borough_code,
            risk=risk,
            rules=routing.rules_in_force(self.rule_rows, clock.to_london(sent).date()),
            front_doors=self.front_door,
            maracs=self.marac,
        )
        return [
            Planned(
                position=route.subject_key,
                agency=route.agency,
                rules=route.rules,
                clocks=routing.initial_clocks(
                    self.book,
                    self.ladders,
                    route.agency,
                    risk,
                    received,
                    sent,
                    self._calendars(route.agency),
                ),
            )
            for route in sorted(found, key=lambda r: (r.subject_key, r.agency.kind.value))
        ]

    # --- rows ----------------------------------------------------------------------------------

    def build(self, size: int) -> Batch:
        """The next ``size`` incidents as rows, ready for :func:`write_batch`."""
        rows: Rows = {t: [] for t in TABLES}
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

    def _seal(self, rows: Rows, purpose: str, value: str, now: datetime) -> str | None:
        if not value:
            return None
        row = identity_store.sealed_row(purpose, value)
        row["created_at"] = now
        rows["sealed_values"].append(row)
        return str(row["id"])

    def _one(self, data: IncidentInput, rows: Rows, now: datetime, report: Report) -> None:
        errors, _ = intake.validate(data, known_schools=self.by_urn)
        if errors:
            raise ValueError(f"generated an invalid incident: {errors}")
        occurred = given(data.occurred_at, "occurred_at")
        iid = self.ids.next("incidents")
        grade = given(data.risk_actuarial, "risk_actuarial")
        received = given(data.received_at, "received_at")
        low, high = SEND_DELAY[grade]
        sent = min(received + timedelta(minutes=self.rng.randint(low, high)), now)
        desk = self.desk_clocks(data)
        triage_due = given(desk["triage_due_at"], "triage_due_at")
        share_by = desk["share_by_at"]
        incident = {
            "id": iid,
            "police_reference": data.police_reference,
            "occurred_at": occurred,
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
            "triage_due_at": triage_due,
            "share_by_at": share_by,
            "routed_at": sent,
            "triage_late": sent > triage_due,
            "share_late": share_by is not None and sent > share_by,
            "triage_escalated_at": None,
            "share_escalated_at": None,
        }
        rows["incidents"].append(incident)
        report.incidents += 1
        on = clock.to_london(occurred).date()
        self.in_incident = set()
        people_before = len(rows["people"])
        people: list[tuple[PersonRole, AdultInput | ChildInput]] = [
            *((a.role or PersonRole.OTHER_ADULT, a) for a in data.adults),
            *((PersonRole.CHILD, c) for c in data.children),
        ]
        links = [
            self._link(iid, position, role, person, data, rows, on)
            for position, (role, person) in enumerate(people)
        ]
        report.people += len(rows["people"]) - people_before
        audit_row(
            rows,
            received,
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
        self._desk_escalations(incident, rows, sent)
        timeline = Timeline(
            self.rng,
            rows,
            self.ids,
            self.ladders,
            self.supervisors,
            now,
            lambda purpose, text, at: self._seal(rows, purpose, text, at),
        )
        for planned in self.plan(data, sent, [p for _, p in links]):
            lid, pseudonym = links[planned.position]
            who = people[planned.position][1]
            name = f"{who.given_name} {who.family_name}"
            self._referral(iid, lid, pseudonym, name, planned, data, grade, timeline)
            report.referrals += 1

    def _desk_escalations(self, incident: dict[str, Any], rows: Rows, sent: datetime) -> None:
        """The desk's deadlines the sweep would have escalated before the incident was sent."""
        for desk_clock, due, column in (
            (DeskClock.SHARE_BY, incident["share_by_at"], "share_escalated_at"),
            (DeskClock.TRIAGE, incident["triage_due_at"], "triage_escalated_at"),
        ):
            if due is None or due > sent:
                continue
            incident[column] = due
            rows["desk_escalations"].append(
                {
                    "id": self.ids.next("desk_escalations"),
                    "incident_id": incident["id"],
                    "clock": desk_clock.value,
                    "at": due,
                    "recipients": ", ".join(self.supervisors) or "nobody: no supervisor on record",
                    "by": "generator",
                }
            )
            audit_row(
                rows,
                due,
                AuditKind.DISCLOSURE,
                f"incident.escalated.{desk_clock.value}",
                "incident",
                incident["id"],
                recipients=", ".join(self.supervisors) or None,
            )

    def _referral(
        self,
        iid: int,
        lid: int,
        pseudonym: str,
        subject_name: str,
        planned: Planned,
        data: IncidentInput,
        grade: RiskGrade,
        timeline: Timeline,
    ) -> None:
        child = next(
            (c for i, c in enumerate(data.children, len(data.adults)) if i == planned.position),
            None,
        )
        row: dict[str, Any] = {
            "id": self.ids.next("referrals"),
            "incident_id": iid,
            "subject_id": lid,
            "agency_id": planned.agency.id,
            "rule_code": planned.rules[0].value,
            "known_to_social_care": bool(child and child.known_to_social_care),
            "sent_by_id": None,
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
            "decline_category": None,
            "decline_dealt_at": None,
            "decline_dealt_by_id": None,
            "rerouted_to_id": None,
            "question_open_since": None,
            "decision_seen_at": None,
            "withdrawn_at": None,
            "withdrawn_by_id": None,
            "paused_at": None,
            "pause_reason": None,
            "owner_id": None,
            **planned.clocks,
        }
        row["state"] = row["state"].value
        working, _ = self._calendars(planned.agency)
        ref = Played(row, planned.agency, grade is RiskGrade.HIGH, working)
        detail = f"due {clock.shown(row['due_at'])}"
        if row["shared_late"]:
            detail += "; sent after the desk's Operation Encompass deadline"
        timeline.sent(
            ref,
            detail,
            {
                "incident": iid,
                "subject": pseudonym,
                "rules": [r.value for r in planned.rules],
                "shared_late": row["shared_late"],
            },
        )
        timeline.play(ref)
        timeline.rows["referrals"].append(row)
        if name_search.shows_names_of(planned.agency.kind):
            for token in name_search.tokens(self.linkage_key, subject_name):
                timeline.rows["referral_name_tokens"].append(
                    {
                        "id": self.ids.next("referral_name_tokens"),
                        "referral_id": row["id"],
                        "agency_id": planned.agency.id,
                        "token": token,
                    }
                )

    def _link(
        self,
        iid: int,
        position: int,
        role: PersonRole,
        person: AdultInput | ChildInput,
        data: IncidentInput,
        rows: Rows,
        on: date,
    ) -> tuple[int, str]:
        """The person (found by pseudonym or new) and their part in this incident: the link's
        id and the person's pseudonym."""
        occurred = given(data.occurred_at, "occurred_at")
        received = given(data.received_at, "received_at")
        child = person if isinstance(person, ChildInput) else None
        kind = PersonKind.CHILD if child else PersonKind.ADULT
        pid, pseudonym, matched = self._person(
            kind, person.given_name, person.family_name, person.date_of_birth, rows, received
        )
        seen = self.history.setdefault(pid, deque(maxlen=20))
        window = occurred - intake.SEEN_BEFORE_WINDOW
        seen_before = sum(1 for t in seen if window <= t < occurred)
        seen.append(occurred)
        if matched:
            audit_row(
                rows,
                received,
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
        return lid, pseudonym
