"""The benchmark suite: ``make bench`` (small N) or ``BENCH_N=1000000 make bench``.

For each engine (SQLite always; PostgreSQL when reachable) it builds a database of BENCH_N
synthetic incidents with ``flask demo generate`` in a separate process, then measures through
the real app (Flask's test client, signed in as a real user): the desk queue, an incident page,
a partner's inbox (its "New" and "Decided" tabs), the supervisor's board, the API's referral
list, the reports (again, as kept in memory, and computed afresh), intake of one incident with
three children, the overdue sweep with 100 newly overdue referrals, and ``audit verify``
throughput. Beside each page it times a baseline: a bare route rendering the same layout with no
database and no access checks; and the sign-in page, the floor of a real page, beside the same
page served by a plain Flask application with the same templates (``bench/plain.py``). It prints
a table and writes ``bench/results/latest.json``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyotp
import sqlalchemy as sa
from flask import Flask, render_template_string

from bench.plain import plain_app
from config import Settings, generate_keys
from referrals import clock, create_app
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.agency import Agency, AgencyKind
from referrals.models.api_client import ApiClientKind
from referrals.models.escalation import Escalation
from referrals.models.incident import Incident, RiskGrade
from referrals.models.referral import Referral
from referrals.models.user import Role
from referrals.queries.reports import kept
from referrals.security.access import public
from referrals.services import admin, api_clients, audit, factors
from referrals.services.actors import Actor

N = int(os.environ.get("BENCH_N", "2000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results" / "latest.json"
PASSWORD = "bench-password-long-enough"
BENCH_SECRET = "BENCHSYNTHETICSECRETAAAAAAAAAAAA"  # each bench user's authenticator (synthetic)
KEYS = generate_keys()
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
# The generator's last line: "... incidents ... written in 123.4 s: ..."
GENERATED = re.compile(r"written in (?P<seconds>[0-9.]+) s")


def env_for(url: str) -> dict[str, str]:
    if os.environ.get("BENCH_DATABASE_URL"):  # a database made with the development keys
        return {
            "REFERRALS_ENV": "development",
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(ROOT / "instance"),
            "API_CALLS_PER_MINUTE": "100000",  # the bench measures speed, not the rate limit
        }
    return {
        "REFERRALS_ENV": "test",
        **KEYS,
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(WORK / "instance"),
        "API_CALLS_PER_MINUTE": "100000",
    }


def flask_cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, **env_for(url)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


EXISTING = os.environ.get("BENCH_DATABASE_URL", "")


def databases() -> list[tuple[str, str]]:
    WORK.mkdir(parents=True, exist_ok=True)
    if EXISTING:  # measure a database generated earlier (a million incidents takes a while)
        return [("sqlite" if EXISTING.startswith("sqlite") else "postgresql", EXISTING)]
    found = []
    sqlite_path = WORK / f"bench-{N}.db"
    for leftover in WORK.glob(f"bench-{N}.db*"):
        leftover.unlink()
    found.append(("sqlite", f"sqlite:///{sqlite_path}"))
    try:
        admin_engine = sa.create_engine(
            PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        name = f"referrals_bench_{N}"
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin_engine.dispose()
        found.append(
            ("postgresql", sa.engine.make_url(PG_URL).set(database=name).render_as_string(False))
        )
    except Exception as exc:
        print(f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}): SQLite only")
    return found


def timed(fn: Callable[[], Any], repeat: int = REPEAT) -> list[float]:
    fn()  # warm caches and compiled statements
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def interleaved(
    calls: dict[str, Callable[[], Any]], rounds: int = 10
) -> dict[str, tuple[float, float]]:
    """Median and p95 of each call, measured in turns (``REPEAT`` of each, ``rounds`` times),
    so that the machine's drift during a run reaches each alike: for the floor, where what
    differs is tenths of a millisecond."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            samples[name] += timed(fn)
    return {name: summary(taken) for name, taken in samples.items()}


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return round(statistics.median(ordered), 2), round(p95, 2)


def bench_app(url: str) -> Flask:
    app = create_app(Settings.from_env(env_for(url)))

    @app.route("/_bench/baseline")
    @public
    def baseline() -> str:
        return render_template_string(
            '{% extends "layout.html" %}{% block title %}Baseline{% endblock %}'
            '{% block content %}<h1 class="govuk-heading-l">Baseline</h1>{% endblock %}'
        )

    return app


def users(app: Flask) -> dict[str, str]:
    """A desk officer, a supervisor and a partner at the busiest front door (e-mail addresses),
    and API tokens for that front door and a police intake system."""
    with app.app_context():
        busiest = db.session.execute(
            sa.select(Referral.agency_id, sa.func.count())
            .join(Agency)
            .where(Agency.kind == AgencyKind.CHILDRENS_SOCIAL_CARE)
            .group_by(Referral.agency_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).first()
        made = {}
        actor = Actor.system("bench")
        for role, agency in (
            (Role.DESK_OFFICER, None),
            (Role.SUPERVISOR, None),
            (Role.PARTNER, busiest[0] if busiest else None),
        ):
            email = f"bench-{role.value}-{uuid.uuid4().hex[:6]}@bench.example"
            user = admin.create_user(
                actor, admin.UserInput(email, f"Bench {role.value}", role, agency), PASSWORD
            )
            factors.add_totp(actor, user.id, BENCH_SECRET, "Bench app")
            made[role.value] = email
        for kind, agency in (
            (ApiClientKind.PARTNER, busiest[0] if busiest else None),
            (ApiClientKind.POLICE_INTAKE, None),
        ):
            made[f"api-{kind.value}"] = api_clients.create(
                actor,
                name=f"Bench {kind.value} {uuid.uuid4().hex[:6]}",
                kind=kind,
                agency_id=agency,
                scopes=[s.value for s in kind.scopes],
                expires_at=None,
            ).token
        db.session.commit()
    return made


def csrf(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match[1]


def client_for(app: Flask, email: str) -> tuple[Any, str]:
    client = app.test_client()
    page = client.get("/sign-in")
    client.post(
        "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": csrf(page.text)}
    )
    step = client.get("/sign-in/factor")
    code = pyotp.TOTP(BENCH_SECRET).at(clock.now())
    done = client.post("/sign-in/factor", data={"code": code, "csrf_token": csrf(step.text)})
    assert done.status_code == 302, done.text[:300]
    token = csrf(client.get("/account/password").text)
    return client, token


def get(client: Any, url: str) -> Callable[[], None]:
    def call() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return call


def afresh(app: Flask, call: Callable[[], None]) -> Callable[[], None]:
    """The call with the reports (and their pages' figures) kept in memory dropped first."""

    def run() -> None:
        with app.app_context():
            kept("reports").clear()
            kept("figures").clear()
        call()

    return run


def bearer(app: Flask, token: str) -> Any:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def notification() -> dict[str, Any]:
    """The API's notification (the format ``intake import`` reads): three children."""
    received = clock.now() - timedelta(hours=1)
    return {
        "id": uuid.uuid4().hex,
        "police_reference": f"CAD{uuid.uuid4().int % 10000:04d}/BENCH{uuid.uuid4().hex[:6]}",
        "occurred_at": (received - timedelta(hours=1)).isoformat(),
        "received_at": received.isoformat(),
        "borough": "E09000022",
        "location": "1 Bench Road, London",
        "summary": "Bench.",
        "risk": {"actuarial": "medium"},
        "adults": [{"role": "victim", "given_name": "Bench", "family_name": "Mark"}],
        "children": [
            {
                "given_name": f"Kid{uuid.uuid4().hex[:4]}",
                "family_name": "Mark",
                "date_of_birth": f"{2012 + i}-02-01",
                "address": "1 Bench Road, London",
                "borough": "E09000022",
                "lives_there": True,
                "present": False,
                "spoken_to": False,
            }
            for i in range(3)
        ],
    }


def intake_form(token: str) -> dict[str, Any]:
    now = clock.to_london(clock.now() - timedelta(hours=1))
    data: dict[str, Any] = {
        "csrf_token": token,
        "action": "save",
        "submission_key": uuid.uuid4().hex,
        "police_reference": f"CAD{uuid.uuid4().int % 10000:04d}/BENCH{uuid.uuid4().hex[:6]}",
        "occurred_date": [str(now.day), str(now.month), str(now.year)],
        "occurred_time": f"{max(now.hour - 1, 0):02d}:00",
        "received_date": [str(now.day), str(now.month), str(now.year)],
        "received_time": f"{now.hour:02d}:00",
        "borough": "E09000022",
        "location": "1 Bench Road, London",
        "summary": "Bench.",
        "risk_actuarial": "medium",
        "risk_judgement": "",
        "risk_rationale": "",
        "adults-0-role": "victim",
        "adults-0-given_name": "Bench",
        "adults-0-family_name": "Mark",
        "adults-0-date_of_birth": ["1", "1", "1990"],
        "adults-0-address": "1 Bench Road",
        "adults-0-phone": "",
    }
    for i in range(3):
        p = f"children-{i}-"
        data.update(
            {
                p + "given_name": f"Kid{uuid.uuid4().hex[:4]}",
                p + "family_name": "Mark",
                p + "date_of_birth": ["1", "2", str(2012 + i)],
                p + "address": "1 Bench Rd",
                p + "borough": "E09000022",
                p + "lives_there": "yes",
                p + "present": "no",
                p + "present_where": "",
                p + "spoken_to": "no",
                p + "voice": "",
                p + "school_urn": "",
                p + "known_to_social_care": "unknown",
            }
        )
    return data


def run_engine(engine: str, url: str) -> list[dict[str, Any]]:
    global N
    generated: list[dict[str, Any]] = []
    if not EXISTING:
        flask_cli(url, "db", "upgrade")
        flask_cli(url, "demo", "load")
        started = time.perf_counter()
        # A database made for this run only: SQLite need not wait for the disk.
        out = flask_cli(url, "demo", "generate", "--incidents", str(N), "--no-sync")
        seconds = time.perf_counter() - started
        reported = GENERATED.search(out)
        assert reported, out
        loading = float(reported["seconds"])
        print(
            f"[{engine}] demo generate: {N:,} incidents in {seconds:.1f} s for the whole "
            f"command ({N / seconds:,.0f}/s); the incidents themselves in {loading:.1f} s "
            f"({N / loading:,.0f}/s), reference agencies and start-up in {seconds - loading:.1f} s"
        )
        for name, spent in (
            ("demo generate (whole command)", seconds),
            ("demo generate (incidents only)", loading),
        ):
            generated.append(
                {
                    "name": name,
                    "engine": engine,
                    "n": N,
                    "median_ms": round(spent * 1000),
                    "p95_ms": None,
                    "baseline_ratio": None,
                    "per_s": round(N / spent),
                }
            )
    if engine == "postgresql" and not EXISTING:
        # As autovacuum would soon after a bulk load: the visibility map lets the covering
        # indexes answer alone (index-only scans); without it every count reads the table too.
        vacuum = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with vacuum.connect() as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))
        vacuum.dispose()
    app = bench_app(url)
    if EXISTING:
        with app.app_context():
            N = int(db.session.scalar(sa.select(sa.func.count(Incident.id))) or 0)
    who = users(app)
    desk, desk_token = client_for(app, who["desk_officer"])
    partner, _ = client_for(app, who["partner"])
    supervisor, _ = client_for(app, who["supervisor"])
    anonymous = app.test_client()
    with app.app_context():
        recent = db.session.scalar(sa.select(sa.func.max(Incident.id)))
        busy_school = db.session.scalar(  # chosen on the page by its URN
            sa.select(Agency.school_urn)
            .join(Referral, Referral.agency_id == Agency.id)
            .where(Agency.kind == AgencyKind.SCHOOL)
            .group_by(Agency.school_urn)
            .order_by(sa.func.count().desc())
            .limit(1)
        )
    floor = interleaved(
        {
            "baseline (layout, no database)": get(anonymous, "/_bench/baseline"),
            "sign-in page": get(anonymous, "/sign-in"),
            "sign-in page, plain Flask (bench/plain.py)": get(
                plain_app().test_client(), "/sign-in"
            ),
        }
    )
    baseline = floor["baseline (layout, no database)"]

    def page(name: str, median: float, p95: float) -> dict[str, Any]:
        return {
            "name": name,
            "engine": engine,
            "n": N,
            "median_ms": median,
            "p95_ms": p95,
            "baseline_ratio": round(p95 / baseline[1], 2),
        }

    results = [*generated, *(page(name, *figures) for name, figures in floor.items())]
    for name, client, url_ in (
        ("desk queue", desk, "/desk/"),
        ("incident page", desk, f"/desk/incidents/{recent}"),
        ("intake form (GET)", desk, "/desk/incidents/new"),
        ("partner inbox", partner, "/portal/"),
        # "New" holds what awaits the agency now (one row at 10,000, a full page at a million);
        # "Decided" is a full page at any size, so its growth is the history's alone.
        ("partner inbox, decided tab", partner, "/portal/?tab=decided"),
        ("supervisor board", supervisor, "/supervisor/"),
        ("API referral list (partner)", bearer(app, who["api-partner"]), "/api/v1/referrals"),
        ("reports, this quarter", supervisor, "/supervisor/reports/?period=this_quarter"),
        ("reports, a year", supervisor, year_of_reports()),
        ("reports, one school, a year", supervisor, f"{year_of_reports()}&school={busy_school}"),
    ):
        results.append(page(name, *summary(timed(get(client, url_)))))
    # A report is kept until the tallies' next refresh (above: the same report again); here
    # each request computes it afresh, as the first after a refresh does.
    for name, url_ in (
        ("reports, this quarter, computed afresh", "/supervisor/reports/?period=this_quarter"),
        ("reports, a year, computed afresh", year_of_reports()),
    ):
        results.append(page(name, *summary(timed(afresh(app, get(supervisor, url_))))))

    police = bearer(app, who["api-police_intake"])

    def submit() -> None:
        response = desk.post("/desk/incidents/new", data=intake_form(desk_token))
        assert response.status_code == 302, response.text[:500]

    def notify() -> None:
        response = police.post("/api/v1/notifications", json=notification())
        assert response.status_code == 201, response.text[:500]

    for name, send in (
        ("intake, 3 children (form POST)", submit),
        ("intake, 3 children (API POST)", notify),
    ):
        median, p95 = summary(timed(send, repeat=max(REPEAT // 2, 10)))
        results.append(
            {
                "name": name,
                "engine": engine,
                "n": N,
                "median_ms": median,
                "p95_ms": p95,
                "baseline_ratio": None,
                "per_s": round(1000 / median, 1),
            }
        )
    results.append(sweep(app, engine))
    results.append(report_count(app, engine))
    results.extend(export_stream(app, engine))
    results.append(verify(app, engine))
    rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results.append(
        {
            "name": "app process peak memory (MB)",
            "engine": engine,
            "n": N,
            "median_ms": None,
            "p95_ms": None,
            "baseline_ratio": None,
            "per_s": None,
            "rss_mb": rss_mb,
        }
    )
    return results


def year_of_reports() -> str:
    today = clock.to_london(clock.now()).date()
    first = today - timedelta(days=364)
    return (
        f"/supervisor/reports/?period=custom&first={first.day}&first={first.month}"
        f"&first={first.year}&last={today.day}&last={today.month}&last={today.year}"
    )


def report_count(app: Flask, engine: str) -> dict[str, Any]:
    """One scheduler run of the reports' tallies: the recent days recounted, as every few
    minutes in service."""
    tasks.count_reports(app)
    median, p95 = summary(timed(lambda: tasks.count_reports(app), repeat=5))
    return {
        "name": "report tallies (one scheduler run)",
        "engine": engine,
        "n": N,
        "median_ms": median,
        "p95_ms": p95,
        "baseline_ratio": None,
    }


def export_stream(app: Flask, engine: str) -> list[dict[str, Any]]:
    """100,000 rows of a queue-like list streamed as CSV and as XLSX: the time, and the most
    memory Python held meanwhile (tracemalloc), which stays flat however many rows there are.
    Then the CSV again as a download sends it: each row naming its record, written as touched
    by the export (500 rows a batch, each committed) before the batch goes out."""
    import tracemalloc

    from referrals.services import exports
    from referrals.web.downloads import touching

    header = ["Incident", "Pseudonym", "Borough", "Risk", "Received", "Status", "Children"]
    moment = clock.now()

    def rows() -> Any:
        for n in range(100_000):
            yield [f"CAD{n:06d}/22NOV26", f"P-{n:08X}", "Lambeth", "High", moment, "Sent", 3]

    found = []
    runs: list[tuple[exports.Format, str, str | None]] = [
        (fmt, fmt.value.upper(), None) for fmt in exports.Format
    ]
    runs.append((exports.Format.CSV, "CSV, each row's record noted", "touched"))
    for fmt, label, touched in runs:
        context = app.app_context()
        context.push()
        made = rows()
        if touched:
            actor = Actor(user_id=None, label="bench", role=Role.SUPERVISOR)
            seq = exports.record(actor, "bench", fmt, {}, 100_000).seq
            db.session.commit()
            made = touching(seq, ((("referral", n), cells) for n, cells in enumerate(made)))
        tracemalloc.start()
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in exports.stream(fmt, header, made))
        spent = time.perf_counter() - started
        context.pop()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"[{engine}] export of 100,000 rows as {label}: {spent:.1f} s, "
            f"{size / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB"
        )
        found.append(
            {
                "name": f"export, 100,000 rows as {label}",
                "engine": engine,
                "n": N,
                "median_ms": round(spent * 1000),
                "p95_ms": None,
                "baseline_ratio": None,
                "per_s": round(100_000 / spent),
                "rss_mb": round(peak / 1e6, 1),
            }
        )
    return found


def sweep(app: Flask, engine: str) -> dict[str, Any]:
    """100 referrals become overdue; time the sweep that takes their first step. They are
    high-risk ones, whose ladder counts elapsed hours, so the step is due whatever the day."""
    samples = []
    # First take whatever fell due since the database was made (the newest referrals' ladders
    # start stepping within minutes of generating), so each timed sweep finds exactly the 100.
    tasks.sweep(app, "bench-before")
    for _ in range(5):
        with app.app_context():
            now = clock.now()
            # Any 100 high-risk referrals, put back to "just overdue" (this is a bench database).
            ids = db.session.scalars(
                sa.select(Referral.id)
                .join(Incident, Incident.id == Referral.incident_id)
                .where(Incident.risk_grade == RiskGrade.HIGH, Referral.paused_at.is_(None))
                .order_by(Referral.id.desc())
                .limit(100)
            ).all()
            assert len(ids) == 100, "BENCH_N is too small for 100 high-risk referrals"
            # Their ladder starts again from the bottom; the steps they had are put back after.
            steps = [
                dict(row._mapping)
                for row in db.session.execute(
                    sa.select(*Escalation.__table__.columns).where(Escalation.referral_id.in_(ids))
                )
            ]
            db.session.execute(sa.delete(Escalation).where(Escalation.referral_id.in_(ids)))
            before = [
                dict(row._mapping)
                for row in db.session.execute(
                    sa.select(
                        Referral.id,
                        Referral.state,
                        Referral.escalation_level,
                        Referral.due_at,
                        Referral.clock_due_at,
                        Referral.next_escalation_at,
                    ).where(Referral.id.in_(ids))
                )
            ]
            db.session.execute(
                sa.update(Referral)
                .where(Referral.id.in_(ids))
                .values(
                    state="viewed",
                    escalation_level=0,
                    due_at=now - timedelta(minutes=1),
                    clock_due_at=now - timedelta(minutes=1),
                    next_escalation_at=now - timedelta(minutes=1),
                )
            )
            db.session.commit()
        start = time.perf_counter()
        taken = tasks.sweep(app, "bench")
        samples.append((time.perf_counter() - start) * 1000)
        assert taken == len(ids), (taken, len(ids))
        with app.app_context():
            # Put them back as they were, so that the next run on this database does not find
            # them overdue: the referrals' columns and their ladder's steps.
            db.session.execute(sa.update(Referral), before)
            db.session.execute(sa.delete(Escalation).where(Escalation.referral_id.in_(ids)))
            if steps:
                db.session.execute(sa.insert(Escalation), steps)
            db.session.commit()
    median, p95 = summary(samples)
    return {
        "name": "overdue sweep, 100 newly overdue",
        "engine": engine,
        "n": N,
        "median_ms": median,
        "p95_ms": p95,
        "baseline_ratio": None,
        "per_s": round(100_000 / median, 1),
    }


def verify(app: Flask, engine: str) -> dict[str, Any]:
    with app.app_context():
        start = time.perf_counter()
        result = audit.verify()
        seconds = time.perf_counter() - start
    assert result.ok, result.problem
    return {
        "name": f"audit verify ({result.checked:,} events)",
        "engine": engine,
        "n": N,
        "median_ms": round(seconds * 1000, 1),
        "p95_ms": None,
        "baseline_ratio": None,
        "per_s": round(result.checked / seconds),
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'measure':<38} {'engine':<10} {'n':>9} {'median ms':>10} {'p95 ms':>9} "
        f"{'x base':>7} {'per s':>10}"
    ]
    for r in rows:

        def cell(key: str, width: int, r: dict[str, Any] = r) -> str:
            value = r.get(key)
            return f"{'' if value is None else value:>{width}}"

        extra = f"  {r['rss_mb']} MB" if "rss_mb" in r else ""
        lines.append(
            f"{r['name']:<38} {r['engine']:<10} {r['n']:>9,} {cell('median_ms', 10)} "
            f"{cell('p95_ms', 9)} {cell('baseline_ratio', 7)} {cell('per_s', 10)}{extra}"
        )
    return "\n".join(lines)


def _size(n: int) -> int:
    """The size a run is filed under: n to two significant figures (a database measured again
    holds the few incidents each run's intake added)."""
    return round(n, 2 - len(str(n)))


def merged(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The new results, with the earlier ones for other engines and sizes kept beside them (a
    run at a million on one engine does not erase the figures at ten thousand)."""
    measured = {(r["engine"], _size(r["n"])) for r in results}
    earlier = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    kept = [r for r in earlier if (r["engine"], _size(r["n"])) not in measured]
    return sorted(kept + results, key=lambda r: (r["n"] >= 100_000, r["engine"] != "sqlite"))


def markdown(rows: list[dict[str, Any]]) -> str:
    """The results as the README's table (``bench/run.py --markdown``)."""

    def cell(value: Any) -> str:
        return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)

    lines = [
        "| measure | engine | incidents | median ms | p95 ms | p95 ÷ baseline p95 | per second |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = f"{r['name']} ({r['rss_mb']} MB)" if "rss_mb" in r else r["name"]
        lines.append(
            f"| {name} | {r['engine']} | {r['n']:,} | {cell(r['median_ms'])} | "
            f"{cell(r['p95_ms'])} | {cell(r['baseline_ratio'])} | {cell(r.get('per_s'))} |"
        )
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:] == ["--markdown"]:
        print(markdown(json.loads(RESULTS.read_text())))
        return
    print(
        f"benchmark: {'the database at BENCH_DATABASE_URL' if EXISTING else f'N={N:,} incidents'}"
        f", {REPEAT} requests per page, on "
        f"{platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()})"
    )
    results = []
    for engine, url in databases():
        results += run_engine(engine, url)
    print(table(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(merged(results), indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
