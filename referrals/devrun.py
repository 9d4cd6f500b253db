"""``make run``: the desk, its scheduler and a mail catcher as three processes.

The demo sign-ins are printed once the desk's health check is green (all three processes are
up, so the sign-ins come last, before the server's log), and Ctrl-C stops all three quietly.
``PORT`` and ``MAIL_PORT`` choose the ports; e-mailed links follow ``PORT``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from referrals.demo import sign_in_lines

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _ready(port: int, mail_port: int) -> bool:
    """The mail catcher listens, the desk answers and its health check is green: the database
    is reachable and the scheduler has beaten (so all three processes are up)."""
    if not (_listening(mail_port) and _listening(port)):
        return False
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def sign_ins(port: int, mail_port: int) -> str:
    lines = [
        "",
        f"The referral desk is at http://127.0.0.1:{port}  (Ctrl-C stops the desk, its "
        "scheduler and the mail catcher)",
        f"E-mails are caught on 127.0.0.1:{mail_port} and saved in instance/mail/",
        *sign_in_lines(),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    port = int(os.environ.get("PORT") or 5000)
    mail_port = int(os.environ.get("MAIL_PORT") or 8025)
    # Unbuffered, so that each process's messages appear when written, before the sign-ins.
    env = {**os.environ, "PORT": str(port), "SMTP_PORT": str(mail_port), "PYTHONUNBUFFERED": "1"}
    commands = [
        ["mailcatcher", "--port", str(mail_port)],
        ["scheduler"],
        ["run", "--host", "127.0.0.1", "--port", str(port)],
    ]
    # Each in its own session: Ctrl-C reaches this process only, which stops them in order.
    children = [
        subprocess.Popen([*FLASK, *args], env=env, start_new_session=True)  # noqa: S603 - our own commands
        for args in commands
    ]
    try:
        deadline = time.monotonic() + 60
        while not _ready(port, mail_port):
            if time.monotonic() > deadline or any(c.poll() is not None for c in children):
                print("the desk did not start: see the messages above", file=sys.stderr)
                return 1
            time.sleep(0.2)
        print(sign_ins(port, mail_port), flush=True)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        return next(c.returncode for c in children if c.returncode is not None) or 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        print("stopped the desk, its scheduler and the mail catcher")


if __name__ == "__main__":
    sys.exit(main())
