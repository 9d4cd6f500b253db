"""Backups that restore (referrals/backup.py): a backup of a working desk,
restored into a fresh database on each engine, verifies its audit chain, opens a sealed
identity with the same keys, and signs a user in."""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from referrals import backup, create_app
from referrals.extensions import db
from referrals.models.incident import Incident
from referrals.models.user import Role
from referrals.services import identity_store
from tests.conftest import PG_URL, REQUIRE_PG, make_settings
from tests.factories import log_incident, sign_in, user_with


@pytest.fixture
def empty_database(engine_name: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database on the same engine, to restore into."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        reason = "pg_dump/pg_restore are not installed (apt install postgresql-client)"
        if REQUIRE_PG:
            pytest.fail(f"{reason}; REQUIRE_POSTGRES=1 makes the PostgreSQL backup test mandatory")
        pytest.skip(reason)
    name = f"referrals_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_restores_into_a_fresh_database(
    app: Flask, empty_database: str, tmp_path: Path
) -> None:
    email = user_with(app, Role.DESK_OFFICER)[1]
    incident_id = log_incident(app)
    path = tmp_path / "backups" / "desk.backup"
    made = app.test_cli_runner().invoke(args=["backup", "create", str(path)])
    assert made.exit_code == 0, made.output
    assert "holds no key" in made.output and path.stat().st_size > 10_000
    again = app.test_cli_runner().invoke(args=["backup", "create", str(path)])
    assert again.exit_code != 0 and "exists already" in again.output

    restored = create_app(make_settings(empty_database, tmp_path / "restored-instance"))
    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(path)])
    assert result.exit_code == 0, result.output
    verified = restored.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    with restored.app_context():
        incident = db.session.get(Incident, incident_id)
        assert incident is not None
        assert identity_store.unseal_id(incident.summary_sealed_id) == (
            "Synthetic: shouting heard by a neighbour."
        )
    client = restored.test_client()
    sign_in(client, email)
    assert client.get(f"/desk/incidents/{incident_id}").status_code == 200
    twice = restored.test_cli_runner().invoke(args=["backup", "restore", str(path)])
    assert twice.exit_code != 0 and "not empty" in twice.output
    with restored.app_context():
        db.engine.dispose()


def test_a_backup_of_the_other_engine_or_of_nothing_is_refused(
    engine_name: str, empty_database: str, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.backup"
    wrong.write_bytes(b"PGDMP" if engine_name == "sqlite" else b"SQLite format 3\x00")
    with pytest.raises(backup.BackupError, match="is not a"):
        backup.restore(empty_database, wrong)
    with pytest.raises(backup.BackupError, match="is not a file"):
        backup.restore(empty_database, tmp_path / "missing.backup")


def test_missing_client_tools_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(backup.BackupError, match=r"pg_dump was not found.*postgresql-client"):
        backup.create("postgresql+psycopg://postgres@127.0.0.1/none", tmp_path / "x.backup")
    assert not (tmp_path / "x.backup").exists()


def test_a_backup_taken_while_the_desk_writes_is_consistent(
    app: Flask, empty_database: str, tmp_path: Path
) -> None:
    from tests.integration.test_audit_chain import _write

    _write(app, 50)
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            _write(app, 5)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with app.app_context():
            backup.create(app.extensions["referrals"].settings.database_url, tmp_path / "live.bak")
    finally:
        stop.set()
        writer.join()
    restored = create_app(make_settings(empty_database, tmp_path / "restored-instance"))
    with restored.app_context():
        backup.restore(empty_database, tmp_path / "live.bak")
        from referrals.services import audit

        result = audit.verify()
        assert result.ok and result.checked >= 50, result
        db.engine.dispose()


def test_the_password_travels_in_the_environment_not_the_command_line() -> None:
    env = backup._pg_environment(sa.engine.make_url("postgresql+psycopg://u:s3cret@db:5433/desk"))
    assert (env["PGUSER"], env["PGPASSWORD"], env["PGHOST"], env["PGPORT"]) == (
        "u",
        "s3cret",
        "db",
        "5433",
    )
