"""Throttling measured over HTTP: ``.venv/bin/python bench/throttle.py``.

Starts the desk under gunicorn with two workers (production settings, behind a pretend TLS proxy:
``TRUSTED_PROXIES=1`` and ``X-Forwarded-Proto: https``) on a fresh SQLite database, or on
PostgreSQL with ``BENCH_DATABASE_URL``, and guesses passwords as an attacker would, with a new
connection for each request so that both workers answer. It prints how many wrong passwords
each account and each address is allowed, the time until the first 429, its ``Retry-After``,
whether the right password then gets through (it must not), whether another account carries on
(it must), how many distinct worker processes answered, and the time a wrong password and an
unknown address take (they should be about the same).
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import generate_keys

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PASSWORD = "throttle-bench-password-long"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Browser:
    """One visitor: its own cookie, and the address a proxy says it comes from."""

    port: int
    address: str
    cookie: str = ""
    pids: set[str] = field(default_factory=set)

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Host": "desk.example",
        }
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        got = {k.lower(): v for k, v in response.getheaders()}
        if "set-cookie" in got:
            self.cookie = got["set-cookie"].split(";", 1)[0]
        connection.close()
        return response.status, got, text

    def sign_in(self, email: str, password: str) -> tuple[int, dict[str, str], float]:
        _, _, page = self.request("GET", "/sign-in")
        token = CSRF.search(page)
        assert token, page[:300]
        begun = time.perf_counter()
        status, headers, _ = self.request(
            "POST", "/sign-in", {"email": email, "password": password, "csrf_token": token[1]}
        )
        return status, headers, time.perf_counter() - begun


def run(env: dict[str, str], label: str) -> None:
    run_env = {**os.environ, **env}
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
    subprocess.run(
        [*flask, "db", "upgrade"], env=run_env, check=True, capture_output=True, cwd=ROOT
    )
    for email in ("victim@bench.example", "bystander@bench.example", "burst@bench.example"):
        subprocess.run(
            [*flask, "users", "create-admin", "--email", email, "--password", PASSWORD],
            env=run_env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
    port = free_port()
    log = Path(env["INSTANCE_PATH"]) / "access.log"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(p)s %(m)s %(U)s %(s)s",
            "wsgi:app",
        ],
        env=run_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                Browser(port, "192.0.2.1").request("GET", "/sign-in")
                break
            except OSError:
                time.sleep(0.2)
        print(f"\n[{label}] gunicorn, 2 workers, on 127.0.0.1:{port}")

        # One account, one address: wrong passwords until the desk says 429.
        attacker = Browser(port, "198.51.100.1")
        started, statuses, first_429 = time.perf_counter(), [], None
        for i in range(15):
            status, headers, _ = attacker.sign_in("victim@bench.example", f"wrong-guess-{i:04d}")
            statuses.append(status)
            if status == 429 and first_429 is None:
                first_429 = (i + 1, time.perf_counter() - started, headers.get("retry-after"))
        allowed = statuses.index(429) if 429 in statuses else len(statuses)
        print(
            f"  wrong passwords answered 400 before the first 429: {allowed} (limit 10 per account)"
        )
        if first_429:
            print(
                f"  first 429 on attempt {first_429[0]}, {first_429[1]:.2f} s after the first "
                f"guess; Retry-After: {first_429[2]} s"
            )
        status, headers, _ = Browser(port, "198.51.100.2").sign_in("victim@bench.example", PASSWORD)
        print(f"  the right password from another address, meanwhile: {status} (must be 429)")
        status, _, _ = Browser(port, "198.51.100.1").sign_in("bystander@bench.example", PASSWORD)
        print(f"  another account from the attacker's address: {status} (302: no global lockout)")

        # One address, many accounts.
        sprayer = Browser(port, "203.0.113.7")
        spray = [
            sprayer.sign_in(f"person{i}@bench.example", "a-wrong-password")[0] for i in range(35)
        ]
        allowed = spray.index(429) if 429 in spray else len(spray)
        print(
            f"  one address guessing many accounts: {allowed} answered before the first 429 "
            "(limit 30)"
        )

        # Many guesses at once (every worker busy): how far past the limit can a burst get?
        from concurrent.futures import ThreadPoolExecutor

        def burst_guess(i: int) -> int:
            return Browser(port, f"10.8.{i // 256}.{i % 256}").sign_in(
                "burst@bench.example", f"burst-guess-{i:04d}"
            )[0]

        with ThreadPoolExecutor(max_workers=16) as pool:
            burst = list(pool.map(burst_guess, range(40)))
        print(
            f"  40 guesses at one account, 16 at a time: {burst.count(400)} answered 400, "
            f"{burst.count(429)} answered 429"
        )

        # Time: a wrong password for a real account against an unknown address.
        wrong, unknown = [], []
        for i in range(8):
            wrong.append(
                Browser(port, f"10.9.0.{i}").sign_in("bystander@bench.example", f"nope-{i:04d}")[2]
            )
            unknown.append(
                Browser(port, f"10.9.1.{i}").sign_in(f"nobody{i}@bench.example", "nope")[2]
            )
        print(
            f"  time to refuse: wrong password {statistics.median(wrong) * 1000:.0f} ms, "
            f"unknown address {statistics.median(unknown) * 1000:.0f} ms (medians of 8)"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    pids = {line.split()[0] for line in log.read_text().splitlines() if " POST /sign-in " in line}
    print(f"  worker processes that answered the POSTs: {len(pids)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        keys = generate_keys()
        url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{folder}/throttle.db")
        env = {
            **keys,
            "REFERRALS_ENV": "production",
            "DATABASE_URL": url,
            "INSTANCE_PATH": folder,
            "TRUSTED_PROXIES": "1",
            "BASE_URL": "https://desk.example",
        }
        run(env, "postgresql" if url.startswith("postgresql") else "sqlite")


if __name__ == "__main__":
    main()
