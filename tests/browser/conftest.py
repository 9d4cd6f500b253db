"""Browser journeys: the real app on a local port, driven in Debian's Chromium by Playwright.

Chromium comes from apt (``make browser``); Playwright's own browser download is never used. If
Chromium is missing the journeys are skipped with the reason, unless ``REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from referrals import create_app
from referrals.extensions import db
from tests.conftest import free_port, make_settings
from tests.route_walk import world  # noqa: F401 - a fixture: one of each record a path names

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@dataclass
class Desk:
    app: Flask
    base: str  # http://localhost:PORT: the desk's BASE_URL, so e-mailed links and keys work


@pytest.fixture
def desk_on_localhost(
    database_url: str, tmp_path: Path, smtp_server: tuple[object, int]
) -> Iterator[Desk]:
    """The real app served at its own ``BASE_URL`` on ``localhost`` (a WebAuthn site must be a
    host name, not an address), sending e-mail to the local SMTP server."""
    port = free_port()
    base = f"http://localhost:{port}"
    app = create_app(
        make_settings(
            database_url, tmp_path / "instance", BASE_URL=base, SMTP_PORT=str(smtp_server[1])
        )
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Desk(app, base)
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        reason = "Debian's chromium is not installed (run `make browser`)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; REQUIRE_BROWSER=1 makes the browser journeys mandatory")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()
