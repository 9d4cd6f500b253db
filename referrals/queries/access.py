"""Access reports for auditors: who saw a record, and what a user saw.

A record is a person (by pseudonym), an incident (by police reference) or a referral (by its
number). Who saw it is every consultation, disclosure and erasure whose own record is one of the
records that show it, or that touched one of them (a list that showed it with names, a row of an
export: ``audit_touches``). A person is shown by each incident they are in, by their part in it
(a reveal of their identity), by their own referrals, and by the other referrals of the incident
whose agency's kind is shown the household (adults) or the siblings (children): what a record
shows is read from the agency kinds' profiles, never restated here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent, AuditKind, AuditTouch
from referrals.models.incident import Incident, IncidentPerson
from referrals.models.person import Person, PersonKind
from referrals.models.referral import Referral, id_from_reference, reference_for
from referrals.models.user import User
from referrals.profiles import PROFILES, Field

# What counts as seeing a record; an erasure is listed too, as the end of the record's story.
SEEN = (AuditKind.CONSULTATION, AuditKind.DISCLOSURE, AuditKind.ERASURE)
CHUNK = 500  # identifiers per IN list


@dataclass(frozen=True)
class Subject:
    """The record asked about, and every record that shows it, as record type -> ids."""

    kind: str  # "person", "incident" or "referral"
    id: int
    label: str  # as people quote it: a pseudonym, a police reference, a referral number
    records: dict[str, set[str]] = field(default_factory=dict)


def person(pseudonym: str) -> Subject | None:
    found = db.session.scalar(select(Person).where(Person.pseudonym == pseudonym.strip().upper()))
    if found is None:
        return None
    links = db.session.execute(
        select(IncidentPerson.id, IncidentPerson.incident_id).where(
            IncidentPerson.person_id == found.id
        )
    ).all()
    own_links = {link_id for link_id, _ in links}
    incidents = {incident_id for _, incident_id in links}
    shown_to = Field.HOUSEHOLD if found.kind is PersonKind.ADULT else Field.SIBLINGS
    referrals = {
        referral_id
        for referral_id, subject_id, kind in _referrals_of(incidents)
        if subject_id in own_links or shown_to in PROFILES[kind].fields
    }
    return Subject(
        "person",
        found.id,
        found.pseudonym,
        _records(
            person=[found.id], incident=incidents, incident_person=own_links, referral=referrals
        ),
    )


def incident(police_reference: str) -> Subject | None:
    """Every incident logged under the reference (a reference re-used with a reason is one
    more incident under the same words)."""
    reference = police_reference.strip()
    ids = set(db.session.scalars(select(Incident.id).where(Incident.police_reference == reference)))
    if not ids:
        return None
    links = {
        link_id
        for chunk in _chunks(ids)
        for link_id in db.session.scalars(
            select(IncidentPerson.id).where(IncidentPerson.incident_id.in_(chunk))
        )
    }
    referrals = {referral_id for referral_id, _, _ in _referrals_of(ids)}
    return Subject(
        "incident",
        min(ids),
        reference,
        _records(incident=ids, incident_person=links, referral=referrals),
    )


def referral(number: str) -> Subject | None:
    referral_id = id_from_reference(number)
    if referral_id is None or db.session.get(Referral, referral_id) is None:
        return None
    return Subject(
        "referral", referral_id, reference_for(referral_id), _records(referral=[referral_id])
    )


def _records(**by_type: Iterable[int]) -> dict[str, set[str]]:
    return {kind: {str(i) for i in ids} for kind, ids in by_type.items() if ids}


def _referrals_of(incident_ids: Iterable[int]) -> list[tuple[int, int, AgencyKind]]:
    found: list[tuple[int, int, AgencyKind]] = []
    for chunk in _chunks(incident_ids):
        found.extend(
            db.session.execute(
                select(Referral.id, Referral.subject_id, Agency.kind)
                .join(Agency, Agency.id == Referral.agency_id)
                .where(Referral.incident_id.in_(chunk))
            )
        )
    return found


def _chunks(ids: Iterable[Any]) -> Iterator[list[Any]]:
    values = list(ids)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


@dataclass(frozen=True)
class AccessRow:
    event: AuditEvent
    agency: str  # the actor's agency, or "" for the desk's own staff and the system
    touched: int  # how many records the event touched besides its own


@dataclass(frozen=True)
class AccessPage:
    rows: list[AccessRow]
    older: int | None  # the seq to continue before, when there is more
    total: int


def who_saw(subject: Subject, *, before: int | None, page_size: int) -> AccessPage:
    """The events that showed the subject, newest first, a page at a time."""
    seqs = _seen(subject)
    ordered = sorted((s for s in seqs if before is None or s < before), reverse=True)
    shown = ordered[: page_size + 1]
    events = list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq.in_(shown)).order_by(AuditEvent.seq.desc())
        )
    )
    return _page(events, page_size, total=len(seqs))


def seen_count(subject: Subject) -> int:
    return len(_seen(subject))


def _seen(subject: Subject) -> set[int]:
    """The numbers of the events that showed the subject: its records' own, and those that
    touched one of them."""
    seqs: set[int] = set()
    for record_type, ids in subject.records.items():
        for chunk in _chunks(ids):
            seqs.update(
                db.session.scalars(
                    select(AuditEvent.seq).where(
                        AuditEvent.record_type == record_type,
                        AuditEvent.record_id.in_(chunk),
                        AuditEvent.kind.in_(SEEN),
                    )
                )
            )
            seqs.update(
                db.session.scalars(
                    select(AuditTouch.seq).where(
                        AuditTouch.record_type == record_type, AuditTouch.record_id.in_(chunk)
                    )
                )
            )
    return seqs


@dataclass(frozen=True)
class UserPeriod:
    """A user (by id and e-mail: an export reads its pages after the request's commit) and the
    London days of the period."""

    user_id: int
    email: str
    first: date
    last: date


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def what_user_saw(asked: UserPeriod, *, before: int | None, page_size: int) -> AccessPage:
    """What one user consulted, was disclosed and erased in a period, newest first."""
    stmt = select(AuditEvent).where(*_user_events(asked))
    if before is not None:
        stmt = stmt.where(AuditEvent.seq < before)
    events = list(db.session.scalars(stmt.order_by(AuditEvent.seq.desc()).limit(page_size + 1)))
    return _page(events, page_size, total=user_count(asked))


def user_count(asked: UserPeriod) -> int:
    found = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(*_user_events(asked))
    )
    return int(found or 0)


def _user_events(asked: UserPeriod) -> tuple[ColumnElement[bool], ...]:
    start, end = clock.day_bounds(asked.first, asked.last)
    return (
        AuditEvent.actor_id == asked.user_id,
        AuditEvent.kind.in_(SEEN),
        AuditEvent.occurred_at >= start,
        AuditEvent.occurred_at < end,
    )


def _page(events: Sequence[AuditEvent], page_size: int, *, total: int) -> AccessPage:
    """The page's rows with their agencies and touch counts: two queries for any page."""
    more = len(events) > page_size
    events = list(events[:page_size])
    agency_ids = {e.agency_id for e in events if e.agency_id is not None}
    names = (
        dict(
            db.session.execute(
                select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))
            ).all()
        )
        if agency_ids
        else {}
    )
    counts: dict[int, int] = defaultdict(int)
    if events:
        counts.update(
            db.session.execute(
                select(AuditTouch.seq, func.count())
                .where(AuditTouch.seq.in_([e.seq for e in events]))
                .group_by(AuditTouch.seq)
            ).all()
        )
    rows = [AccessRow(e, names.get(e.agency_id or 0, ""), counts[e.seq]) for e in events]
    return AccessPage(rows, events[-1].seq if more and events else None, total)


def every_page(fetch: Callable[..., AccessPage], page_size: int = CHUNK) -> Iterator[AccessRow]:
    """Every row of an access report, a page at a time (for its export)."""
    before: int | None = None
    while True:
        page: AccessPage = fetch(before=before, page_size=page_size)
        yield from page.rows
        if page.older is None:
            return
        before = page.older
