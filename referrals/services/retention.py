"""Retention review and disposal (Management of Police Information).

An incident is due for review ``RETENTION_YEARS`` after it occurred, or on the date its last
review set. A reviewer retains it (a rationale and the next review date) or disposes of it.

Disposal erases for real, in one transaction: the incident's counts are added to the reports'
disposed tallies (all that is left of it); every sealed value of the incident, its people's parts
in it and its referrals (identities, free text, messages, notes) is deleted from the identity
store; the incident, its referrals and everything hanging from them are deleted; each person who
appears in no other incident is deleted with their linkage hash, so a child whose every incident
was disposed of is no longer "seen before", and the people kept have "seen before" counted again
without it. One audit event of kind erasure records what was erased, by identifiers only. On
SQLite ``secure_delete`` (set on every connection, ``db.py``) overwrites the freed bytes, and the
write-ahead log is checkpointed and truncated after the commit so no old page stays in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import delete, event, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import KeyedColumnElement

from referrals import clock
from referrals.db import Base, text_limit
from referrals.extensions import db
from referrals.models.audit import AuditKind
from referrals.models.escalation import Chase, DeskEscalation, Escalation
from referrals.models.identity import SealedValue
from referrals.models.incident import Incident, IncidentAmendment, IncidentPerson
from referrals.models.outbox import OutboxMessage
from referrals.models.person import Person
from referrals.models.referral import Referral, ReferralEvent, ReferralMessage, ReferralNameToken
from referrals.models.retention import RetentionReview
from referrals.models.routing import RoutingChange
from referrals.narrowing import given
from referrals.queries import incidents as incident_queries
from referrals.queries import referrals as referral_queries
from referrals.queries.paging import numbered
from referrals.runtime import runtime
from referrals.services import audit, free_text, intake, report_tallies
from referrals.services.actors import Actor
from referrals.services.errors import InvalidInput, NotFound

# What hangs from a referral, and from an incident, deleted before what it hangs from. A test
# checks that every table with a foreign key to these is here, so a new one cannot be forgotten.
OF_REFERRAL: tuple[type[Base], ...] = (
    ReferralNameToken,
    ReferralMessage,
    ReferralEvent,
    Chase,
    Escalation,
    OutboxMessage,
)
OF_INCIDENT: tuple[type[Base], ...] = (
    RoutingChange,
    IncidentAmendment,
    DeskEscalation,
    RetentionReview,
)


def shift_years(day: date, years: int) -> date:
    """The same day ``years`` later (earlier if negative); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def years() -> int:
    """RETENTION_YEARS: how long after an incident its first review falls due."""
    return runtime().settings.retention_years


def _due_today() -> Any:
    """No review yet and occurred ``RETENTION_YEARS`` ago, or its review date has come."""
    on = clock.london_today()
    occurred_by = shift_years(on, -years())
    _, cutoff = clock.day_bounds(occurred_by, occurred_by)  # the end of that day
    return or_(
        Incident.review_on <= on,
        (Incident.review_on.is_(None)) & (Incident.occurred_at < cutoff),
    )


def review_due(incident: Incident) -> date:
    """The day the incident's next review falls due."""
    if incident.review_on is not None:
        return incident.review_on
    occurred = clock.london_day(incident.occurred_at)
    return shift_years(occurred, years())


@dataclass(frozen=True)
class DuePage:
    incidents: list[Incident]
    reviewed: dict[int, int]  # incident id -> how many times it was retained before
    total: int
    page: int
    pages: int


def due(page: int, page_size: int) -> DuePage:
    """The incidents due for review today, the longest-due first, a numbered page at a time."""
    found = numbered(
        select(Incident).where(_due_today()).order_by(Incident.occurred_at, Incident.id),
        page,
        page_size,
    )
    incidents = found.items
    reviewed: dict[int, int] = {}
    if incidents:
        reviewed = dict(
            db.session.execute(
                select(RetentionReview.incident_id, func.count())
                .where(RetentionReview.incident_id.in_([i.id for i in incidents]))
                .group_by(RetentionReview.incident_id)
            ).all()
        )
    return DuePage(incidents, reviewed, found.total, found.page, found.pages)


def due_incident(incident_id: int, *, lock: bool = False) -> Incident:
    """An incident due for review, or :class:`NotFound` (as for one that is not due)."""
    stmt = select(Incident).where(Incident.id == incident_id, _due_today())
    found = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise NotFound("No incident with that number is due for review")
    return found


@dataclass(frozen=True)
class Review:
    """What a reviewer is shown of an incident due: pseudonymised, like the desk's view."""

    incident: Incident
    referrals: list[Referral]
    reviews: list[RetentionReview]  # the earlier decisions to retain, newest first
    due_on: date


def open_for_review(actor: Actor, incident_id: int) -> Review:
    """An incident due for review as its reviewer sees it; each showing is a consultation.
    Raises :class:`NotFound` for one that does not exist or is not due."""
    due_incident(incident_id)
    incident = given(incident_queries.incident_with_people(incident_id), "incident")
    audit.record(
        actor, AuditKind.CONSULTATION, "incident.retention_reviewed", "incident", incident_id
    )
    reviews = db.session.scalars(
        select(RetentionReview)
        .where(RetentionReview.incident_id == incident_id)
        .order_by(RetentionReview.decided_at.desc())
    )
    return Review(
        incident,
        referral_queries.for_incident(incident_id),
        list(reviews),
        review_due(incident),
    )


def retain(actor: Actor, incident_id: int, rationale: str, next_review_on: date | None) -> None:
    """Keep the incident until ``next_review_on``, for the reason given."""
    errors: dict[str, str] = {}
    try:
        rationale = free_text.reason(
            rationale,
            text_limit(RetentionReview.rationale),
            field="rationale",
            label="The rationale",
        )
    except InvalidInput as problem:
        errors.update(problem.errors)
    now_day = clock.london_today()
    if next_review_on is None:
        errors["next_review_on"] = "Enter the date of the next review"
    elif next_review_on <= now_day:
        errors["next_review_on"] = "The next review must be after today"
    if errors:
        raise InvalidInput(errors)
    next_review_on = given(next_review_on, "next_review_on")
    incident = due_incident(incident_id, lock=True)
    incident.review_on = next_review_on
    db.session.add(
        RetentionReview(
            incident_id=incident.id,
            decided_at=clock.now(),
            reviewer_id=actor.user_id,
            rationale=rationale,
            next_review_on=next_review_on,
        )
    )
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "incident.retained",
        "incident",
        incident.id,
        reason=rationale,
        detail={"next_review_on": next_review_on.isoformat()},
    )


@dataclass(frozen=True)
class Disposal:
    police_reference: str
    referrals: int
    people_erased: int
    people_kept: int
    sealed_values: int


def dispose(actor: Actor, incident_id: int) -> Disposal:
    """Erase the incident for real (see the module's docstring). The caller commits."""
    incident = due_incident(incident_id, lock=True)
    reference = incident.police_reference
    now = clock.now()
    counted_days = report_tallies.keep_disposed(incident.id, now)
    referral_ids, person_ids, sealed = _erase_records(incident.id)
    db.session.expunge(incident)
    erased, kept = _erase_lone_people(person_ids)
    report_tallies.recount(counted_days, now)  # the living rows of those days, without it
    audit.record(
        actor,
        AuditKind.ERASURE,
        "incident.disposed",
        "incident",
        incident_id,
        detail={
            "police_reference": reference,
            "referrals": referral_ids,
            "people_erased": erased,
            "people_kept": kept,
            "sealed_values": sealed,
        },
    )
    _truncate_log_after_commit(db.session())
    return Disposal(reference, len(referral_ids), len(erased), len(kept), sealed)


def _erase_records(incident_id: int) -> tuple[list[int], list[int], int]:
    """Delete the incident, everything hanging from it and every value they sealed; return
    its referrals, the people who were in it, and how many sealed values went."""
    referral_ids = list(
        db.session.scalars(select(Referral.id).where(Referral.incident_id == incident_id))
    )
    links = db.session.execute(
        select(IncidentPerson.id, IncidentPerson.person_id).where(
            IncidentPerson.incident_id == incident_id
        )
    ).all()
    plan: list[tuple[type[Base], Any]] = [
        *((m, _column(m, "referral_id").in_(referral_ids)) for m in OF_REFERRAL),
        (Referral, Referral.id.in_(referral_ids)),
        *((m, _column(m, "incident_id") == incident_id) for m in OF_INCIDENT),
        (IncidentPerson, IncidentPerson.incident_id == incident_id),
        (Incident, Incident.id == incident_id),
    ]
    sealed: set[str] = set()
    for model, where in plan:  # what hangs from a row goes before the row
        sealed |= _sealed_of(model, where)
        db.session.execute(delete(model).where(where))
    db.session.execute(delete(SealedValue).where(SealedValue.id.in_(sealed)))
    return referral_ids, sorted({person_id for _, person_id in links}), len(sealed)


def _erase_lone_people(person_ids: list[int]) -> tuple[list[str], list[str]]:
    """Delete, with their linkage hash, the people in no other incident; count "seen before"
    again for the rest. Returns the pseudonyms erased and kept."""
    people = db.session.execute(
        select(Person.id, Person.pseudonym).where(Person.id.in_(person_ids))
    ).all()
    in_another = set(
        db.session.scalars(
            select(IncidentPerson.person_id).where(IncidentPerson.person_id.in_(person_ids))
        )
    )
    db.session.execute(
        delete(Person).where(Person.id.in_(person_ids), Person.id.not_in(in_another))
    )
    _count_seen_before_again(in_another)
    return (
        sorted(p for pid, p in people if pid not in in_another),
        sorted(p for pid, p in people if pid in in_another),
    )


def _column(model: type[Base], name: str) -> KeyedColumnElement[Any]:
    return model.__table__.c[name]


def _sealed_of(model: type[Base], where: Any) -> set[str]:
    """The identity-store values the rows point at (every ``*_sealed_id`` column)."""
    columns = [c for c in model.__table__.c if c.name.endswith("_sealed_id")]
    if not columns:
        return set()
    found: set[str] = set()
    for row in db.session.execute(select(*columns).where(where)):
        found.update(value for value in row if value)
    return found


def _count_seen_before_again(person_ids: set[int]) -> None:
    """Each remaining part of a person kept: their earlier incidents counted without the one
    disposed of (one count per part: a household has a handful)."""
    for link in db.session.scalars(
        select(IncidentPerson).where(IncidentPerson.person_id.in_(person_ids))
    ):
        link.seen_before_count = intake.earlier_incidents(link.person_id, link.incident.occurred_at)


def _truncate_log_after_commit(session: Session) -> None:
    """SQLite keeps the old pages of a write in its write-ahead log until a checkpoint: after
    the commit, copy the log into the database (whose freed bytes secure_delete zeroed) and
    truncate it. A reader still open may keep the log a moment longer; the next checkpoint
    takes it."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    def checkpoint(_session: Session) -> None:
        # On the driver's own connection, outside any transaction: every transaction of this
        # engine begins IMMEDIATE (db.py), and a checkpoint cannot run inside one.
        connection = engine.raw_connection()
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        except Exception:  # the erasure is committed; a later checkpoint finishes the job
            current_app.logger.warning("WAL checkpoint after a disposal failed", exc_info=True)
        finally:
            connection.close()

    event.listen(session, "after_commit", checkpoint, once=True)
