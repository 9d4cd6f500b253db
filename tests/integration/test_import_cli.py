"""``flask --app wsgi intake import FILE.json``: the same validation, each rejection reported,
the others imported, and a re-import making no copies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from referrals import clock
from referrals.models.incident import Incident
from tests.factories import count, notification_json

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def _run(app: Flask, tmp_path: Path, document: Any) -> Any:
    path = tmp_path / "notifications.json"
    path.write_text(json.dumps(document))
    return app.test_cli_runner().invoke(args=["intake", "import", str(path)])


def test_import_reports_each_rejection_and_imports_the_rest(app: Flask, tmp_path: Path) -> None:
    clock.freeze(NOW)
    document = {
        "notifications": [
            notification_json("N-1"),
            notification_json("N-2", borough="E99999999", children=[]),
            notification_json("N-3", occurred_at="yesterday", risk={"actuarial": "severe"}),
            "not an object",
            notification_json("N-5", police_reference="CAD8888/20NOV26"),
        ]
    }
    result = _run(app, tmp_path, document)
    assert result.exit_code == 1
    assert "imported 2, already present 0, rejected 3" in result.output
    assert "rejected notification 2 (N-2)" in result.output
    assert "borough: Choose the borough" in result.output
    assert "children: Add at least one child" in result.output
    assert "occurred_at: occurred_at must be an ISO 8601 date" in result.output
    assert "risk_actuarial: actuarial must be standard, medium or high" in result.output
    assert "each notification must be a JSON object" in result.output
    assert count(app, Incident) == 2


def test_reimport_makes_no_copies(app: Flask, tmp_path: Path) -> None:
    clock.freeze(NOW)
    document = [notification_json("N-1")]
    assert _run(app, tmp_path, document).exit_code == 0
    again = _run(app, tmp_path, document)
    assert again.exit_code == 0
    assert "imported 0, already present 1, rejected 0" in again.output
    assert count(app, Incident) == 1


def test_a_file_that_is_not_json_is_a_clear_error(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = app.test_cli_runner().invoke(args=["intake", "import", str(path)])
    assert result.exit_code != 0
    assert "is not valid JSON" in result.output


def test_naive_times_are_refused(app: Flask, tmp_path: Path) -> None:
    clock.freeze(NOW)
    result = _run(app, tmp_path, [notification_json("N-1", received_at="2026-11-20T23:00:00")])
    assert result.exit_code == 1
    assert "must include a UTC offset" in result.output
