"""Retention review and real erasure (``services/retention.py``, ``web/retention.py``): what is
due and when, a decision to retain with its rationale, disposal that deletes the incident's
records, identities and free text while the reports keep its counts, people kept only where they
appear elsewhere, "seen before" counted again, one erasure event with the chain intact, and on
SQLite none of the erased bytes left in the database file or its write-ahead log."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from referrals import clock
from referrals.db import Base
from referrals.extensions import db
from referrals.models.agency import AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.identity import SealedValue
from referrals.models.incident import Incident, IncidentPerson, PersonRole
from referrals.models.person import Person
from referrals.models.referral import Referral
from referrals.models.retention import RetentionReview
from referrals.models.routing import RoutingRule
from referrals.models.user import Role
from referrals.queries import reports
from referrals.queries.reports import ReportFilters
from referrals.services import audit, report_tallies, retention
from referrals.services.actors import Actor
from referrals.services.errors import NotFound
from tests.factories import (
    LAMBETH,
    child,
    csrf_from,
    front_doors,
    load,
    log_incident,
    make_agency,
    send_incident,
    sign_in,
    user_with,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SKY = {"given_name": "Skylar", "family_name": "Quillfeather", "date_of_birth": date(2014, 2, 9)}
REVIEWER = Actor(user_id=None, label="reviewer:tests", role=Role.SUPERVISOR)


def _logged_at(app: Flask, when: datetime, **overrides: object) -> int:
    clock.freeze(when)
    incident = log_incident(app, **overrides)
    clock.freeze(NOW)
    return incident


def test_shift_years_keeps_29_february_in_range() -> None:
    assert retention.shift_years(date(2032, 2, 29), -6) == date(2026, 2, 28)
    assert retention.shift_years(date(2026, 11, 23), -6) == date(2020, 11, 23)
    assert retention.shift_years(date(2026, 11, 23), 6) == date(2032, 11, 23)


def test_due_six_years_after_the_incident_or_on_the_review_date(app: Flask) -> None:
    """Occurred 2020-11-23 (6 years ago today): due. 2020-11-24: due tomorrow, not today.
    Retained to 2026-11-22: due. Retained to 2027-01-01: not due, though it is 8 years old."""
    six_years = _logged_at(app, datetime(2020, 11, 23, 12, 0, tzinfo=UTC))
    tomorrow = _logged_at(app, datetime(2020, 11, 24, 9, 0, tzinfo=UTC))
    review_passed = _logged_at(app, datetime(2024, 1, 5, 9, 0, tzinfo=UTC))
    retained = _logged_at(app, datetime(2018, 3, 1, 9, 0, tzinfo=UTC))
    with app.app_context():
        load(Incident, review_passed).review_on = date(2026, 11, 22)
        load(Incident, retained).review_on = date(2027, 1, 1)
        db.session.commit()
        page = retention.due(1, 25)
        assert [i.id for i in page.incidents] == [six_years, review_passed]
        assert page.total == 2
        assert retention.review_due(load(Incident, tomorrow)) == date(2026, 11, 24)


@pytest.fixture
def supervisor(app: Flask) -> FlaskClient:
    clock.freeze(NOW)  # the session is as old as the frozen clock says
    client = app.test_client()
    _, email = user_with(app, Role.SUPERVISOR)
    sign_in(client, email)
    return client


def _post(client: FlaskClient, incident_id: int, **data: object) -> object:
    page = client.get(f"/retention/{incident_id}")
    assert page.status_code == 200, page.text[:300]
    return client.post(
        f"/retention/{incident_id}", data={"csrf_token": csrf_from(page.text), **data}
    )


def test_retain_records_the_rationale_and_the_next_review(
    app: Flask, supervisor: FlaskClient
) -> None:
    incident = _logged_at(app, datetime(2019, 6, 1, 9, 0, tzinfo=UTC))
    queue = supervisor.get("/retention/")
    assert "1 incident due for review" in queue.text
    response = _post(
        supervisor,
        incident,
        decision="retain",
        rationale="Linked to an ongoing MARAC case; keep for the partnership review.",
        next_review_on=["1", "12", "2028"],
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    after = supervisor.get("/retention/")
    assert "Retained until its next review on 1 December 2028" in after.text
    assert "Nothing is due for review today" in after.text
    with app.app_context():
        assert load(Incident, incident).review_on == date(2028, 12, 1)
        review = db.session.scalars(select(RetentionReview)).one()
        assert review.rationale.startswith("Linked to an ongoing MARAC case")
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "incident.retained")
        ).one()
        assert event.reason == review.rationale and "2028-12-01" in (event.detail or "")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose whether to retain or dispose of the incident"),
        ({"decision": "keep-forever"}, "Choose whether to retain or dispose of the incident"),
        ({"decision": "retain", "next_review_on": ["1", "1", "2030"]}, "Give a reason of at least"),
        (
            {
                "decision": "retain",
                "rationale": "Still needed for a live case.",
                "next_review_on": ["1", "1", "2020"],
            },
            "The next review must be after today",
        ),
        (
            {
                "decision": "retain",
                "rationale": "Still needed for a live case.",
                "next_review_on": ["31", "2", "2030"],
            },
            "Next review must be a real date",
        ),
        (
            {"decision": "retain", "rationale": "Still needed for a live case."},
            "Enter the date of the next review",
        ),
        (
            {
                "decision": "retain",
                "rationale": "Still needed for a live case.",
                "next_review_on": ["1", "1", "2400"],
            },
            "Next review must be between 1900 and 2100",
        ),
        ({"decision": "dispose"}, "Confirm that you understand disposal cannot be undone"),
    ],
)
def test_a_bad_decision_is_a_clear_error_and_changes_nothing(
    app: Flask, supervisor: FlaskClient, data: dict[str, object], message: str
) -> None:
    incident = _logged_at(app, datetime(2019, 6, 1, 9, 0, tzinfo=UTC))
    response = _post(supervisor, incident, **data)
    assert response.status_code == 400  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "There is a problem" in text and message in text
    with app.app_context():
        assert load(Incident, incident).review_on is None
        assert db.session.scalar(select(func.count()).select_from(RetentionReview)) == 0


def test_an_incident_not_due_cannot_be_reviewed(app: Flask, supervisor: FlaskClient) -> None:
    recent = _logged_at(app, NOW - timedelta(days=30))
    assert supervisor.get(f"/retention/{recent}").status_code == 404
    with app.app_context(), pytest.raises(NotFound):
        retention.dispose(REVIEWER, recent)


@pytest.mark.parametrize("role", list(Role))
def test_only_reviewers_see_the_queue(app: Flask, role: Role) -> None:
    client = app.test_client()
    _, email = user_with(app, role, agency_kind=AgencyKind.SCHOOL if role is Role.PARTNER else None)
    sign_in(client, email)
    expected = 200 if role is Role.SUPERVISOR else 403
    assert client.get("/retention/").status_code == expected


# --- disposal ---------------------------------------------------------------------------------

OLD = datetime(2020, 3, 2, 9, 0, tzinfo=UTC)  # due: more than 6 years ago
LATER = datetime(2020, 9, 1, 9, 0, tzinfo=UTC)  # within 12 months after OLD: Robin seen before


def _old_household(app: Flask) -> tuple[int, int]:
    """Incident OLD: Robin (at a school), Skylar and Avery (an adult), sent to Lambeth's front
    door and the school. Incident LATER: Robin and Avery again (so both are kept; Robin was
    "seen before" once); Skylar is in no other incident."""
    clock.freeze(OLD)
    front_doors(app, LAMBETH)
    with app.app_context():
        make_agency(kind=AgencyKind.SCHOOL, urn="987201")
        # The seeded rules start in 2026; these incidents are older.
        db.session.execute(update(RoutingRule).values(effective_from=date(2000, 1, 1)))
        db.session.commit()
    old = log_incident(
        app,
        children=[child(school_urn="987201"), child(**SKY)],
        summary="Synthetic: Quillfeather household, raised voices.",
    )
    send_incident(app, old)
    later = _logged_at(app, LATER, children=[child()])
    return old, later


def _sealed_of(app: Flask, incident_id: int) -> dict[str, bytes]:
    """Every sealed value of the incident, its people's parts in it and its referrals."""
    with app.app_context():
        ids: set[str] = set()
        for model, where in (
            (Incident, Incident.id == incident_id),
            (IncidentPerson, IncidentPerson.incident_id == incident_id),
            (Referral, Referral.incident_id == incident_id),
        ):
            columns = [c for c in model.__table__.c if c.name.endswith("_sealed_id")]
            for row in db.session.execute(select(*columns).where(where)):
                ids.update(v for v in row if v)
        return dict(
            db.session.execute(
                select(SealedValue.id, SealedValue.ciphertext).where(SealedValue.id.in_(ids))
            ).all()
        )


def _report_total(app: Flask) -> tuple[dict[str, int], dict[str, int]]:
    """Every count of the report over the years, the partners' and the desk's own."""
    with app.app_context():
        found = reports.report(ReportFilters(first=date(2020, 1, 1), last=date(2026, 12, 31)))
        return dict(found.total.counts), dict(found.desk_total.counts)


def test_disposal_erases_for_real_and_keeps_only_counts(app: Flask) -> None:
    old, later = _old_household(app)
    clock.freeze(NOW)
    with app.app_context():
        report_tallies.refresh(clock.now())
        db.session.commit()
        robin_link = db.session.scalars(
            select(IncidentPerson).where(
                IncidentPerson.incident_id == later, IncidentPerson.role == PersonRole.CHILD
            )
        ).one()
        robin, robin_pseudonym = robin_link.person_id, robin_link.person.pseudonym
        assert robin_link.seen_before_count == 1
        referrals = db.session.scalar(
            select(func.count()).select_from(Referral).where(Referral.incident_id == old)
        )
        skylar = db.session.scalars(
            select(Person.id)
            .join(IncidentPerson, IncidentPerson.person_id == Person.id)
            .where(
                IncidentPerson.incident_id == old,
                Person.id != robin,
                IncidentPerson.role == PersonRole.CHILD,
            )
        ).one()
    sealed = _sealed_of(app, old)
    before = _report_total(app)
    assert referrals and before[0]["sent"] == referrals and before[1]["received"] == 2
    assert len(sealed) >= 5

    with app.app_context():
        done = retention.dispose(REVIEWER, old)
        db.session.commit()
    assert (done.referrals, done.people_erased, done.people_kept) == (referrals, 1, 2)

    with app.app_context():
        assert db.session.get(Incident, old) is None
        assert not db.session.scalars(select(Referral).where(Referral.incident_id == old)).all()
        assert not db.session.scalars(
            select(IncidentPerson).where(IncidentPerson.incident_id == old)
        ).all()
        assert not db.session.scalars(
            select(SealedValue.id).where(SealedValue.id.in_(sealed))
        ).all()
        assert db.session.get(Person, skylar) is None  # in no other incident: erased
        kept = db.session.get(Person, robin)
        assert kept is not None and kept.pseudonym == robin_pseudonym
        assert (
            db.session.scalars(
                select(IncidentPerson.seen_before_count).where(IncidentPerson.incident_id == later)
            ).all()
            == [0, 0]  # Avery and Robin, each seen once before in the incident disposed of
        )
        erasure = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.ERASURE)
        ).one()
        assert erasure.record_id == str(old) and erasure.actor_label == "reviewer:tests"
        assert "Quillfeather" not in (erasure.detail or "") and "Skylar" not in (
            erasure.detail or ""
        )
        assert robin_pseudonym in (erasure.detail or "")
        assert audit.verify().ok
    # The reports count it still, and after a recount of every day too.
    assert _report_total(app) == before
    with app.app_context():
        report_tallies.forget()
        report_tallies.refresh(clock.now())
        db.session.commit()
    assert _report_total(app) == before


def test_a_child_whose_every_incident_was_disposed_of_is_not_seen_before(app: Flask) -> None:
    old, _later = _old_household(app)
    with app.app_context():
        retention.dispose(REVIEWER, old)
        db.session.commit()
    again = _logged_at(app, NOW - timedelta(days=1), children=[child(**SKY)])
    with app.app_context():
        link = db.session.scalars(
            select(IncidentPerson).where(
                IncidentPerson.incident_id == again, IncidentPerson.role == PersonRole.CHILD
            )
        ).one()
        assert link.seen_before_count == 0
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(IncidentPerson)
                .where(IncidentPerson.person_id == link.person_id)
            )
            == 1
        )


def test_dispose_through_the_page(app: Flask, supervisor: FlaskClient) -> None:
    old, _later = _old_household(app)
    clock.freeze(NOW)
    response = _post(supervisor, old, decision="dispose", confirm="y")
    assert response.status_code == 302  # type: ignore[attr-defined]
    queue = supervisor.get("/retention/").text
    assert re.search(r"was disposed of: \d+ referrals and 1 of 3 people erased", queue), queue
    assert supervisor.get(f"/retention/{old}").status_code == 404  # gone, and said so


def test_every_table_that_hangs_from_an_incident_is_disposed_of() -> None:
    """A table added later with a foreign key to an incident, a referral or a person's part in
    an incident must join the disposal, or its rows would outlive the erasure."""
    handled = {m.__tablename__ for m in (*retention.OF_REFERRAL, *retention.OF_INCIDENT)}
    handled |= {"referrals", "incident_people", "incidents"}
    erased = {"incidents", "referrals", "incident_people"}
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name in erased:
                assert table.name in handled, f"{table.name} is not disposed of with its incident"


def test_sqlite_file_and_log_hold_none_of_the_erased_bytes(app: Flask, engine_name: str) -> None:
    if engine_name != "sqlite":
        pytest.skip("PostgreSQL: VACUUM reclaims dead tuples; the README says what it does not do")
    old, _later = _old_household(app)
    clock.freeze(NOW)
    sealed = _sealed_of(app, old)
    with app.app_context():

        def people_of(*where: Any) -> set[int]:
            return set(db.session.scalars(select(IncidentPerson.person_id).where(*where)))

        only_old = people_of(IncidentPerson.incident_id == old) - people_of(
            IncidentPerson.incident_id != old
        )
        skylar_hash = db.session.scalars(
            select(Person.link_hash).where(Person.id.in_(only_old))
        ).all()
        assert len(skylar_hash) == 1
        path = Path(db.engine.url.database or "")
        raw = db.engine.raw_connection()  # outside a transaction, as a checkpoint must be
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        raw.close()
    needles = [*sealed.values(), *(h.encode() for h in skylar_hash if h)]

    def on_disk() -> bytes:
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    # The search finds what is there: every sealed value is in the file before disposal.
    assert all(needle in on_disk() for needle in needles)
    with app.app_context():
        retention.dispose(REVIEWER, old)
        db.session.commit()
    left = on_disk()
    assert [n[:8].hex() for n in needles if n in left] == []
    for text in (b"Skylar", b"Quillfeather", b"2014-02-09"):
        assert text not in left
