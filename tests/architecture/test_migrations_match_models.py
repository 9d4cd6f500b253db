"""The schema exists only through migrations, and the migrations match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from referrals.extensions import db


def test_models_and_migrations_agree(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_audit_table_is_append_only_in_the_database(app: Flask, engine_name: str) -> None:
    with app.app_context():
        from referrals.models.audit import AuditEvent, AuditKind
        from referrals.services import audit
        from tests.factories import SYSTEM

        audit.record(SYSTEM, AuditKind.SECURITY, "test", "test", 1)
        db.session.commit()
        for statement in ("UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events"):
            try:
                db.session.execute(sa.text(statement))
                db.session.commit()
            except sa.exc.DatabaseError as exc:
                db.session.rollback()
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{statement} was allowed on {engine_name}")
        assert db.session.query(AuditEvent).count() == 1
