"""The end of the audit chain is anchored outside the database (services/audit_anchor.py): the
scheduler writes keyed checkpoints; ``audit verify`` reports events cut off the end, even when
the cut was made past the triggers and new events were written after it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from flask import Flask

from referrals.extensions import db
from referrals.jobs import scheduler
from referrals.runtime import runtime
from referrals.services import audit, audit_anchor
from tests.integration.test_audit_chain import _tamper, _write


def _anchors(app: Flask) -> list[dict[str, object]]:
    with app.app_context():
        path = Path(runtime().settings.audit_anchor_dir) / audit_anchor.FILE_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def test_the_scheduler_writes_a_checkpoint_when_the_chain_moves(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    _write(app, 4)
    with caplog.at_level(logging.INFO, logger="referrals.services.audit_anchor"):
        ran = app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert ran.exit_code == 0, ran.output
    (first,) = _anchors(app)
    assert first["seq"] == 4 and len(str(first["mac"])) == 64
    assert "audit anchor: event 4" in caplog.text  # the log holds it too
    app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert len(_anchors(app)) == 1  # nothing new: no new line
    _write(app, 2)
    app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert [a["seq"] for a in _anchors(app)] == [4, 6]
    code, output = _verify(app)
    assert code == 0 and "reaches the checkpoint" in output and "(event 6)" in output


def test_the_scheduler_anchors_every_few_minutes(app: Flask) -> None:
    jobs = {job.id: job for job in scheduler.build(app).get_jobs()}
    assert jobs["audit-anchor"].trigger.interval.total_seconds() <= 5 * 60


def test_events_deleted_from_the_end_are_reported(app: Flask, engine_name: str) -> None:
    _write(app, 10)
    with app.app_context():
        audit_anchor.write()
    _tamper(app, engine_name, "DELETE FROM audit_events WHERE seq > 7")
    with app.app_context():
        assert audit.verify().ok  # the chain alone cannot see a cut at its end
    code, output = _verify(app)
    assert code == 1
    assert "3 event(s) are missing from the end" in output and "saw event 10" in output


def test_an_end_cut_and_written_again_is_reported(app: Flask, engine_name: str) -> None:
    _write(app, 10)
    with app.app_context():
        audit_anchor.write()
    _tamper(app, engine_name, "DELETE FROM audit_events WHERE seq > 7")
    _write(app, 5)  # the chain goes on from event 7 and verifies on its own
    code, output = _verify(app)
    assert code == 1 and "event 10 is not the event the checkpoint" in output


def test_an_edited_anchor_file_is_reported(app: Flask) -> None:
    _write(app, 3)
    with app.app_context():
        audit_anchor.write()
        path = Path(runtime().settings.audit_anchor_dir) / audit_anchor.FILE_NAME
    line = json.loads(path.read_text())
    line["seq"] = 2  # someone lowers the checkpoint to hide a cut
    path.write_text(json.dumps(line) + "\n")
    code, output = _verify(app)
    assert code == 1 and "do not verify with the audit key" in output


def test_the_integrity_page_shows_the_anchor(app: Flask) -> None:
    from referrals.models.user import Role
    from tests.factories import sign_in, user_with

    email = user_with(app, Role.AUDITOR)[1]
    with app.app_context():
        audit_anchor.write()
        db.session.commit()
    client = app.test_client()
    sign_in(client, email)
    page = client.get("/audit/verify")
    assert page.status_code == 200 and "reaches the checkpoint of" in page.text
