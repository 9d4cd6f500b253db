"""``make run``'s launcher (``referrals/devrun.py``): the sign-ins come once all three processes
are up, e-mailed links follow ``PORT``, and Ctrl-C stops everything quietly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from config import Settings
from tests.conftest import KEYS, free_port, settings_env


def test_base_url_follows_port_unless_set() -> None:
    env = {"REFERRALS_ENV": "test", **KEYS, "DATABASE_URL": "sqlite://"}
    assert Settings.from_env({**env, "PORT": "5077"}).base_url == "http://127.0.0.1:5077"
    assert Settings.from_env(env).base_url == "http://127.0.0.1:5000"
    chosen = Settings.from_env({**env, "PORT": "5077", "BASE_URL": "https://desk.example/"})
    assert chosen.base_url == "https://desk.example"


def test_sign_ins_come_last_and_ctrl_c_stops_all_three_quietly(
    database_url: str, tmp_path: Path
) -> None:
    port, mail_port = free_port(), free_port()
    env = settings_env(
        database_url,
        tmp_path / "instance",
        PORT=str(port),
        MAIL_PORT=str(mail_port),
        SWEEP_SECONDS="1",
    )
    log = tmp_path / "run.log"
    with log.open("w") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "referrals.devrun"],
            env={**env, "PATH": "/usr/bin:/bin"},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
        deadline = time.monotonic() + 90
        while "Demo sign-ins" not in log.read_text() and time.monotonic() < deadline:
            assert runner.poll() is None, log.read_text()
            time.sleep(0.3)
        text = log.read_text()
        assert f"http://127.0.0.1:{port}" in text and "supervisor@desk.example" in text
        started = text.index("Demo sign-ins")
        assert text.index("mail catcher on") < started  # the others were up before
        assert text.index("scheduler ") < started
        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=30) == 0
    text = log.read_text()
    assert text.rstrip().endswith("stopped the desk, its scheduler and the mail catcher")
    assert "Traceback" not in text
