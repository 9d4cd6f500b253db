"""The intake service: rules, pseudonym matching and "seen before", and what is stored."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.incident import Incident, IncidentPerson, PersonRole, RiskGrade
from referrals.models.person import Person
from referrals.services import intake
from referrals.services.errors import InvalidInput
from tests.factories import SYSTEM, adult, child, incident_at, incident_input, log_incident

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now() -> None:
    clock.freeze(NOW)


def _errors(app: Flask, **overrides: object) -> dict[str, str]:
    with app.app_context(), pytest.raises(InvalidInput) as raised:
        intake.log_incident(SYSTEM, incident_input(**overrides))
    return raised.value.errors


def test_child_of_eighteen_and_adult_under_sixteen_are_refused(app: Flask) -> None:
    errors = _errors(
        app,
        children=[child(date_of_birth=date(2008, 11, 20))],
        adults=[adult(date_of_birth=date(2015, 1, 1))],
    )
    assert "under 18" in errors["children-0-date_of_birth"]
    assert "recorded as a child" in errors["adults-0-date_of_birth"]


def test_every_problem_is_reported_at_once(app: Flask) -> None:
    errors = _errors(
        app,
        police_reference="",
        location="",
        risk_actuarial=None,
        children=[child(given_name="", lives_there=None, spoken_to=None)],
    )
    assert {
        "police_reference",
        "location",
        "risk_actuarial",
        "children-0-given_name",
        "children-0-lives_there",
        "children-0-spoken_to",
    } <= set(errors)


def test_judgement_equal_to_actuarial_and_orphan_rationale_are_refused(app: Flask) -> None:
    assert "higher" in _errors(app, risk_judgement=RiskGrade.MEDIUM)["risk_judgement"]
    assert "only for a raised grade" in _errors(app, risk_rationale="because")["risk_rationale"]


def test_nothing_is_written_when_invalid(app: Flask) -> None:
    _errors(app, children=[])
    with app.app_context():
        assert db.session.query(Incident).count() == 0
        assert db.session.query(Person).count() == 0
        assert db.session.query(AuditEvent).count() == 0


def test_same_child_gets_the_same_pseudonym_and_a_seen_before_count(app: Flask) -> None:
    first = log_incident(app, **incident_at(NOW - timedelta(days=200)))
    second = log_incident(
        app,
        **incident_at(NOW - timedelta(days=30)),
        children=[child(given_name=" ROBIN ", family_name="testwood")],
    )
    old = log_incident(app, **incident_at(NOW - timedelta(days=800)))
    third = log_incident(app, **incident_at(NOW - timedelta(hours=2)))
    with app.app_context():

        def the_child(incident_id: int) -> IncidentPerson:
            return (
                db.session.query(IncidentPerson)
                .filter_by(incident_id=incident_id, role=PersonRole.CHILD)
                .one()
            )

        pseudonyms = {the_child(i).person.pseudonym for i in (first, second, third, old)}
        assert len(pseudonyms) == 1
        assert pseudonyms.pop().startswith("C-")
        assert the_child(first).seen_before_count == 0
        assert the_child(second).seen_before_count == 1
        assert the_child(third).seen_before_count == 2  # the 800-day-old one is outside 12 months
        combined = db.session.query(AuditEvent).filter_by(kind=AuditKind.COMBINATION).count()
        assert combined == 6  # each later incident matched the child and the victim


def test_a_different_child_is_a_different_person(app: Flask) -> None:
    log_incident(app, children=[child(), child(given_name="Sky", date_of_birth=date(2019, 5, 1))])
    with app.app_context():
        assert db.session.query(Person).filter(Person.pseudonym.like("C-%")).count() == 2


def test_collection_is_audited_once_with_identifiers_only(app: Flask) -> None:
    incident_id = log_incident(app)
    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(kind=AuditKind.COLLECTION).all()
        assert [(e.record_type, e.record_id) for e in events] == [("incident", str(incident_id))]
        assert "Robin" not in (events[0].detail or "")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a file to read: SQLite's
def test_names_dates_of_birth_and_addresses_are_not_in_the_sqlite_file(app: Flask) -> None:
    secrets = {
        "given": "Zephyrine",
        "family": "Quillfeatherstone",
        "address": "77 Marrowbone Crescent",
        "voice": "Mummy was crying",
        "location": "Flat 9 Larkspur Mansions",
    }
    log_incident(
        app,
        location=secrets["location"],
        children=[
            child(
                given_name=secrets["given"],
                family_name=secrets["family"],
                date_of_birth=date(2017, 8, 19),
                address=secrets["address"],
                voice=secrets["voice"],
            )
        ],
    )
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:  # fold the write-ahead log in, then read every byte
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    blob = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for value in [*secrets.values(), "2017-08-19", "19/08/2017"]:
        for encoded in (value.encode(), value.lower().encode(), value.encode("utf-16-le")):
            assert encoded not in blob, f"{value!r} found in the database file"
    # ...and the data is really there, sealed: the incident can be read back.
    with app.app_context():
        assert db.session.query(IncidentPerson).count() == 2


def test_one_person_entered_twice_is_refused_not_a_crash(app: Flask) -> None:
    errors = _errors(
        app,
        children=[child(), child(given_name="Sam"), child(given_name=" robin ", voice="hello")],
    )
    assert errors == {
        "children-2-given_name": "Child 3: this person has the same name and date of birth as "
        "child 1: enter each person once"
    }


def test_a_household_is_resolved_together_known_and_new_alike(app: Flask) -> None:
    """Pseudonyms for a whole household come from one look-up: a known child is matched, each
    new one gets a pseudonym of their own, and the collection event lists them in order."""
    log_incident(app, **incident_at(NOW - timedelta(days=10)))
    second = log_incident(
        app,
        children=[child(given_name="Sam"), child(), child(given_name="Kit")],
        adults=[adult(), adult(role=PersonRole.SUSPECT, given_name="Jo", date_of_birth=None)],
    )
    with app.app_context():
        links = (
            db.session.query(IncidentPerson)
            .filter_by(incident_id=second)
            .order_by(IncidentPerson.position)
            .all()
        )
        assert [link.role for link in links] == [PersonRole.VICTIM, PersonRole.SUSPECT] + [
            PersonRole.CHILD
        ] * 3
        assert [link.seen_before_count for link in links] == [1, 0, 0, 1, 0]
        pseudonyms = [link.person.pseudonym for link in links]
        assert len(set(pseudonyms)) == 5
        logged = (
            db.session.query(AuditEvent)
            .filter_by(action="incident.logged", record_id=str(second))
            .one()
        )
        assert f'"people":{json.dumps(pseudonyms, separators=(",", ":"))}' in (logged.detail or "")


def test_pseudonyms_that_clash_are_drawn_again(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first candidate already taken, or given twice in one household, is replaced by the
    next: every new person leaves with a pseudonym no one else has."""
    from referrals.models.person import PersonKind
    from referrals.services import pseudonyms

    log_incident(app)  # Robin Testwood holds a pseudonym already
    with app.app_context():
        taken = db.session.query(Person.pseudonym).filter(Person.pseudonym.like("C-%")).scalar()
    real = pseudonyms._candidate

    def clashing(kind: PersonKind, link: str | None, attempt: int) -> str:
        return taken if attempt == 0 and kind is PersonKind.CHILD else real(kind, link, attempt)

    monkeypatch.setattr(pseudonyms, "_candidate", clashing)
    second = log_incident(app, children=[child(given_name="Sam"), child(given_name="Kit")])
    with app.app_context():
        children = (
            db.session.query(IncidentPerson)
            .filter_by(incident_id=second, role=PersonRole.CHILD)
            .all()
        )
        given = {link.person.pseudonym for link in children}
        assert len(given) == 2 and taken not in given
        assert db.session.query(Person).count() == len(
            {p for (p,) in db.session.query(Person.pseudonym)}
        )
