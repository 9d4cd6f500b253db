"""Fixtures: a migrated database per test, on SQLite always and on PostgreSQL when reachable.

The schema is built by running the Alembic migrations once per engine per session; each test then
gets a fresh copy (SQLite: a copy of the migrated file; PostgreSQL: the tables emptied after it).
PostgreSQL is looked for at ``TEST_DATABASE_URL`` (default: the local server). If it cannot be
reached its tests are skipped with the reason, unless ``REQUIRE_POSTGRES=1`` (CI) makes that a
failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from config import Settings, generate_keys
from referrals import clock, create_app
from referrals.extensions import db

KEYS = generate_keys()
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_URL = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"
ENGINES = ("sqlite", "postgresql")


def settings_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment a test app (or a real process of the app) runs with."""
    return {
        "REFERRALS_ENV": "test",
        **KEYS,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        **extra,
    }


def make_settings(database_url: str, instance: Path, **extra: str) -> Settings:
    return Settings.from_env(settings_env(database_url, instance, **extra))


def _migrate(database_url: str, instance: Path) -> None:
    app = create_app(make_settings(database_url, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.db"
    _migrate(f"sqlite:///{path}", folder)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:  # fold the WAL into the file so one copy holds everything
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _postgres_unavailable_reason() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__})"
    return None


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _postgres_unavailable_reason()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"{reason}; REQUIRE_POSTGRES=1 makes PostgreSQL mandatory")
        pytest.skip(f"{reason}; set TEST_DATABASE_URL to run the PostgreSQL half")
    name = f"referrals_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _migrate(url, tmp_path_factory.mktemp("pg-instance"))
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Configuration the migrations seed (routing rules, deadline policies): restored after each test.
SEEDED_TABLES = ("routing_rules", "deadline_policies", "escalation_policies")
_seeds: dict[str, list[dict[str, object]]] = {}


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if not _seeds:
            for name in SEEDED_TABLES:
                rows = conn.execute(sa.text(f"SELECT * FROM {name}")).mappings().all()
                _seeds[name] = [dict(r) for r in rows]
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        # The audit table refuses TRUNCATE by trigger; the test harness (a superuser) bypasses
        # triggers for its own clean-up only.
        conn.exec_driver_sql("SET session_replication_role = replica")
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        for name, seeded in _seeds.items():
            if seeded:
                conn.execute(db.metadata.tables[name].insert(), seeded)
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
    engine.dispose()


@pytest.fixture(params=ENGINES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "desk.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    yield url
    _empty_postgres(url)


@pytest.fixture
def engine_name(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "instance")


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The app, with no context pushed: tests open ``with app.app_context():`` around their own
    database work so that no transaction of theirs is left open while a request runs."""
    application = create_app(settings)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _release_clock() -> Iterator[None]:
    yield
    clock.freeze(None)


# --- e-mail: a real SMTP server on localhost, and a guard against any other --------------------


class _Inbox:
    """Collects what a local aiosmtpd server receives; can be told to refuse."""

    def __init__(self) -> None:
        self.messages: list[object] = []
        self.refuse_with: str | None = None

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if self.refuse_with:
            return self.refuse_with
        from email import message_from_bytes

        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 Message accepted"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(autouse=True)
def _no_real_email(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any SMTP connection outside this machine fails the test."""
    import smtplib

    original = smtplib.SMTP.connect

    def local_only(
        self: smtplib.SMTP, host: str = "localhost", port: int = 0, source_address: object = None
    ) -> object:
        assert host in ("127.0.0.1", "localhost", "::1"), f"test tried to e-mail {host}"
        return original(self, host, port, source_address)  # type: ignore[arg-type]

    monkeypatch.setattr(smtplib.SMTP, "connect", local_only)
