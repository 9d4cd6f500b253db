"""The audit chain: verify names the first broken event after an edit, a deletion or a
reordering; concurrent writers still make one chain; the CLI exits accordingly."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask import Flask

from referrals.extensions import db
from referrals.models.audit import AuditEvent, AuditKind, AuditTouch
from referrals.services import audit
from tests.factories import SYSTEM


def _write(app: Flask, n: int) -> None:
    with app.app_context():
        for i in range(n):
            audit.record(SYSTEM, AuditKind.CONSULTATION, "incident.viewed", "incident", i + 1)
        db.session.commit()


def _tamper(app: Flask, engine_name: str, *statements: str) -> None:
    """What a database administrator could do by hand, triggers out of the way."""
    with app.app_context():
        conn = db.session.connection()
        if engine_name == "postgresql":
            conn.exec_driver_sql("SET session_replication_role = replica")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        for statement in statements:
            conn.exec_driver_sql(statement)
        db.session.commit()


def _verify(app: Flask) -> audit.VerifyResult:
    with app.app_context():
        return audit.verify()


def test_an_intact_chain_verifies(app: Flask) -> None:
    _write(app, 25)
    result = _verify(app)
    assert result.ok and result.checked == 25


def test_an_edit_is_found(app: Flask, engine_name: str) -> None:
    _write(app, 10)
    _tamper(app, engine_name, "UPDATE audit_events SET actor_label = 'someone-else' WHERE seq = 4")
    result = _verify(app)
    assert (result.broken_seq, result.checked) == (4, 3)
    assert "altered" in result.problem


def test_a_deletion_is_found(app: Flask, engine_name: str) -> None:
    _write(app, 10)
    _tamper(app, engine_name, "DELETE FROM audit_events WHERE seq = 6")
    result = _verify(app)
    assert result.broken_seq == 7
    assert "event 6 is missing" in result.problem


def test_a_reordering_is_found(app: Flask, engine_name: str) -> None:
    _write(app, 10)
    _tamper(
        app,
        engine_name,
        "UPDATE audit_events SET seq = 1000 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = 1000",
    )
    result = _verify(app)
    assert result.broken_seq == 3


def test_concurrent_writers_make_one_unbroken_chain(app: Flask) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            _write(app, 10)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = _verify(app)
    assert result.ok and result.checked == 40


@pytest.mark.parametrize("tampered", [False, True])
def test_cli_exit_code(app: Flask, engine_name: str, tampered: bool) -> None:
    _write(app, 5)
    if tampered:
        _tamper(app, engine_name, "UPDATE audit_events SET reason = 'edited' WHERE seq = 2")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    if tampered:
        assert result.exit_code == 1
        assert "BROKEN: event 2 was altered" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "5 events verified" in result.output


def test_event_holds_reason_and_recipients(app: Flask) -> None:
    with app.app_context():
        event = audit.record(
            SYSTEM,
            AuditKind.DISCLOSURE,
            "referral.opened",
            "referral",
            9,
            reason="checking the school",
            recipients=["SCH-900001"],
        )
        db.session.commit()
        stored = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == event.seq))
        assert stored is not None
        assert (stored.reason, stored.recipients) == ("checking the school", "SCH-900001")


def test_an_event_undone_with_its_savepoint_leaves_the_chain_whole(app: Flask) -> None:
    """Events of one transaction continue from the end it read once; an event rolled back with
    a savepoint must not become the end the next event chains to."""
    with app.app_context():
        audit.record(SYSTEM, AuditKind.SECURITY, "kept.first", "user", 1)
        with pytest.raises(RuntimeError), db.session.begin_nested():
            audit.record(SYSTEM, AuditKind.SECURITY, "undone", "user", 2)
            db.session.flush()
            raise RuntimeError("roll the savepoint back")
        audit.record(SYSTEM, AuditKind.SECURITY, "kept.second", "user", 3)
        db.session.commit()
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).all()
        assert actions == ["kept.first", "kept.second"]
        assert audit.verify().ok


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_events_recorded_together_are_written_at_the_end_in_order(app: Flask) -> None:
    """A move of many referrals writes its events in one statement at the end of the block, in
    the order recorded, with the records each touched; an inner block leaves it to the outer."""
    with app.app_context():
        audit.record(SYSTEM, AuditKind.CONSULTATION, "before", "incident", 1)
        with audit.together():
            audit.record(
                SYSTEM, AuditKind.DISCLOSURE, "first", "referral", 1, touched=[("referral", 1)]
            )
            with audit.together():
                audit.record(SYSTEM, AuditKind.DISCLOSURE, "second", "referral", 2)
            assert _actions() == ["before"]  # nothing written until the outer block ends
            audit.record(
                SYSTEM, AuditKind.DISCLOSURE, "third", "referral", 3, touched=[("referral", 3)]
            )
        assert _actions() == ["before", "first", "second", "third"]
        db.session.commit()
        touched = db.session.execute(
            sa.select(AuditTouch.seq, AuditTouch.record_id).order_by(AuditTouch.seq)
        ).all()
        assert [tuple(t) for t in touched] == [(2, "1"), (4, "3")]
        assert audit.verify().ok and audit.verify().checked == 4


def test_an_error_inside_together_writes_none_of_its_events(app: Flask) -> None:
    """A caller that catches the error and goes on: nothing of the block is written, and the
    next event continues the chain from the last one written, not from the one never written."""
    with app.app_context():
        audit.record(SYSTEM, AuditKind.CONSULTATION, "kept", "incident", 1)
        db.session.commit()
        audit.record(SYSTEM, AuditKind.CONSULTATION, "kept.too", "incident", 2)
        with pytest.raises(RuntimeError), audit.together():
            audit.record(SYSTEM, AuditKind.DISCLOSURE, "lost", "referral", 1)
            raise RuntimeError("the move failed")
        assert _actions() == ["kept", "kept.too"]
        audit.record(SYSTEM, AuditKind.CONSULTATION, "after", "incident", 3)
        db.session.commit()
        assert _actions() == ["kept", "kept.too", "after"]
        assert db.session.scalars(sa.select(AuditEvent.seq).order_by(AuditEvent.seq)).all() == [
            1,
            2,
            3,
        ]
        assert audit.verify().ok
