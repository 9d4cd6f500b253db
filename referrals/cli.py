"""Flask commands: ``users``, ``intake``, ``audit``, ``demo``, ``keys`` and ``backup``.

Each command is an entry point: it parses input, calls services, and commits once per unit of
work (one notification, one user), rolling back that unit alone on failure.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pyotp
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from referrals import backup, clock, demo, mailcatcher
from referrals.extensions import db
from referrals.intake_json import parse_notification
from referrals.jobs import scheduler
from referrals.models.audit import AuditKind
from referrals.models.user import Role, User
from referrals.queries import open_work
from referrals.runtime import runtime
from referrals.services import (
    admin,
    audit,
    audit_anchor,
    bulk_load,
    generator,
    identity_store,
    intake,
    reference_agencies,
    report_tallies,
)
from referrals.services.actors import Actor
from referrals.services.errors import InvalidInput

users_cli = AppGroup("users", help="Manage users.")
intake_cli = AppGroup("intake", help="Import incident notifications.")
audit_cli = AppGroup("audit", help="Check the audit trail.")
demo_cli = AppGroup("demo", help="Synthetic demo data.")
keys_cli = AppGroup("keys", help="Encryption key rotation.")
backup_cli = AppGroup("backup", help="Back up the database, and restore a backup.")
reports_cli = AppGroup("reports", help="The supervisors' reports.")


@dataclass
class ImportReport:
    created: int = 0
    repeated: int = 0
    rejected: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)


def import_notifications(items: list[Any], actor: Actor) -> ImportReport:
    """Each notification is its own unit of work: one rejected does not stop the others."""
    report = ImportReport()
    for index, item in enumerate(items):
        label = item.get("id") or item.get("police_reference") if isinstance(item, dict) else None
        data, parse_errors = parse_notification(item)
        try:
            if parse_errors:
                domain_errors, _ = intake.validate(data)
                raise InvalidInput({**domain_errors, **parse_errors})
            _incident, created = intake.log_incident(actor, data)
            db.session.commit()
        except InvalidInput as invalid:
            db.session.rollback()
            report.rejected.append((index, str(label or f"#{index + 1}"), invalid.errors))
            continue
        except Exception:
            db.session.rollback()
            raise
        if created:
            report.created += 1
        else:
            report.repeated += 1
    return report


def _read_notifications(path: Path) -> list[Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path} is not valid JSON: {exc}") from exc
    items = document.get("notifications") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise click.ClickException('expected {"notifications": [...]} or a list of notifications')
    return items


@intake_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import incident notifications from FILE.json (format: referrals/intake_json.py)."""
    report = import_notifications(_read_notifications(file), Actor.system("import"))
    for index, label, errors in report.rejected:
        click.echo(f"rejected notification {index + 1} ({label}):", err=True)
        for path, message in errors.items():
            click.echo(f"  - {path}: {message}", err=True)
    click.echo(
        f"imported {report.created}, already present {report.repeated}, "
        f"rejected {len(report.rejected)}"
    )
    if report.rejected:
        sys.exit(1)


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", default="Administrator", show_default=True)
@click.password_option(prompt="Password (at least 12 characters)")
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator (the first one, usually)."""
    try:
        user = admin.create_user(
            Actor.system("cli"), admin.UserInput(email, name, Role.ADMINISTRATOR), password
        )
        db.session.commit()
    except InvalidInput as invalid:
        db.session.rollback()
        raise click.ClickException("; ".join(invalid.errors.values())) from invalid
    click.echo(f"administrator {user.email} created")


@audit_cli.command("verify")
def verify_command() -> None:
    """Exit 0 if the hash chain is intact and still reaches the latest checkpoint of its end;
    otherwise say what is wrong and exit 1."""
    result = audit_anchor.verify()
    if result.ok:
        click.echo(f"audit chain intact: {result.checked} events verified; {result.anchored}")
        return
    click.echo(f"audit chain BROKEN: {result.problem} ({result.checked} events verified)", err=True)
    sys.exit(1)


def _not_in_production(what: str) -> None:
    if runtime().settings.is_production:
        raise click.ClickException(
            f"{what} is refused in production: demo accounts have published passwords and "
            "authenticator secrets. Use it on a development or test desk only."
        )


@users_cli.command("reset-factors")
@click.argument("email")
def reset_factors_command(email: str) -> None:
    """Remove a user's second factors and end their sessions (e.g. the only administrator lost
    their phone); they enrol a new one at their next sign-in."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with the e-mail address {email}")
    admin.reset_factors(Actor.system("cli"), user)
    db.session.commit()
    click.echo(f"second factors of {user.email} removed; they set up a new one at next sign-in")


@demo_cli.command("code")
@click.argument("email")
def demo_code(email: str) -> None:
    """Print a demo user's current authenticator code (their secret is synthetic and public)."""
    _not_in_production("flask demo code")
    user = demo.demo_user(email)
    if user is None:
        raise click.ClickException(
            f"{email} is not a demo user; demo users: "
            + ", ".join(u.email for u in demo.DEMO_USERS)
        )
    totp = pyotp.TOTP(user.totp_secret)
    left = totp.interval - int(time.time()) % totp.interval
    click.echo(f"{totp.now()}  (for {user.email}; changes in {left} s, and each code works once)")


@demo_cli.command("load")
@click.option(
    "--no-sign-ins",
    is_flag=True,
    help="Do not print the demo sign-ins (make run prints them once the desk answers).",
)
def demo_load(no_sign_ins: bool) -> None:
    """Load synthetic demo data if the database is empty; print the demo sign-ins."""
    _not_in_production("flask demo load")
    if demo.is_empty():
        demo.load_reference_data()
        demo.load_users()
        demo.load_api_clients()
        db.session.commit()
        report = import_notifications(demo.notifications(), Actor.system("demo"))
        sent = demo.send_referrals()
        staged = demo.stage_work()
        report_tallies.refresh(clock.now())
        db.session.commit()
        click.echo(f"demo data loaded: {report.created} synthetic incidents, {sent} referrals sent")
        click.echo("for the board and the desk's lists: " + "; ".join(staged))
    else:
        click.echo("database already holds data: kept as it is")
    if no_sign_ins:
        return
    click.echo("\n" + "\n".join(demo.sign_in_lines()))


@demo_cli.command("generate")
@click.option(
    "--incidents",
    type=click.IntRange(1, 5_000_000),
    required=True,
    help="How many synthetic incidents to add.",
)
@click.option("--batch", type=click.IntRange(100, 50_000), default=2000, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option(
    "--years",
    type=click.FloatRange(0.1, 10),
    default=3.0,
    show_default=True,
    help="Spread the incidents over this many years up to now.",
)
@click.option(
    "--no-sync",
    is_flag=True,
    help="SQLite: do not wait for the disk while loading (faster; an operating-system crash "
    "meanwhile can corrupt the file, so only for a database you can generate again).",
)
def demo_generate(incidents: int, batch: int, seed: int, years: float, no_sync: bool) -> None:
    """Add N synthetic incidents of realistic shape, with referrals and partner responses."""
    _not_in_production("flask demo generate")
    begun = time.perf_counter()
    made = reference_agencies.ensure_reference_data()
    db.session.commit()
    if made:
        click.echo(f"reference data: {made} agencies added in {time.perf_counter() - begun:.1f} s")
    gen = generator.Generator(incidents, seed=seed, years=years)
    started = last = time.perf_counter()

    def progress(written: int) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last >= 5 or written == incidents:
            rate = written / (now - started)
            eta = (incidents - written) / rate if rate else 0
            click.echo(
                f"  {written:>9,}/{incidents:,} incidents  {rate:,.0f}/s  ETA {eta / 60:.1f} min",
                err=True,
            )
            last = now

    try:
        bulk_load.run(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            gen,
            batch,
            progress,
            durable=not no_sync,
        )
    except bulk_load.WriterFailed as exc:
        raise click.ClickException(f"generation stopped: {exc}") from exc
    bulk_load.finish(generator.TABLES)
    open_work.compact()  # the triggers' one row per open referral written, folded
    db.session.commit()
    seconds = time.perf_counter() - started
    counted = time.perf_counter()
    report_tallies.forget()  # what was written in bulk moved no "updated_at" since the last count
    days = report_tallies.refresh(clock.now())
    db.session.commit()
    click.echo(f"reports: {days:,} days counted in {time.perf_counter() - counted:.1f} s", err=True)
    r = gen.report
    click.echo(
        f"generated {r.incidents:,} incidents, {r.people:,} new people, "
        f"{r.referrals:,} referrals, {r.audit_events:,} audit events ({r.rows:,} rows) "
        f"written in {seconds:.1f} s: {r.incidents / seconds:,.0f} incidents/s "
        f"({time.perf_counter() - begun:.1f} s for the whole command)"
    )


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_create(path: Path) -> None:
    """Write a consistent backup of the whole database to PATH (a new file). The keys are not
    in it: keep them apart from it, as safely."""
    try:
        size = backup.create(runtime().settings.database_url, path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(
        Actor.system("cli"),
        AuditKind.SECURITY,
        "backup.created",
        "database",
        "all",
        detail={"path": str(path.resolve()), "bytes": size},
    )
    db.session.commit()
    click.echo(
        f"backup written to {path} ({size:,} bytes). It holds no key: without the same "
        "ENCRYPTION_KEYS, LINKAGE_KEY and AUDIT_KEY it cannot be read or verified."
    )


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def backup_restore(path: Path) -> None:
    """Restore the backup at PATH into the empty database DATABASE_URL names."""
    db.session.remove()
    db.engine.dispose()  # nothing of ours holds the database while it is written
    try:
        backup.restore(runtime().settings.database_url, path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(
        Actor.system("cli"),
        AuditKind.SECURITY,
        "backup.restored",
        "database",
        "all",
        detail={"path": str(path.resolve())},
    )
    db.session.commit()
    click.echo(
        f"restored {path}. Run `flask --app wsgi audit verify` to check the audit chain "
        "with the keys in use."
    )


@keys_cli.command("rotate")
def rotate_command() -> None:
    """Re-seal every identity under the active key (the first in ENCRYPTION_KEYS)."""
    count = identity_store.rotate()
    db.session.commit()
    click.echo(f"re-sealed {count} values under the active key")


@reports_cli.command("count")
@click.option("--all", "every_day", is_flag=True, help="Recount every day, not only what changed.")
def reports_count(every_day: bool) -> None:
    """Bring the reports' daily tallies up to date now (the scheduler does it every few
    minutes)."""
    started = time.perf_counter()
    if every_day:
        report_tallies.forget()
    days = report_tallies.refresh(clock.now())
    db.session.commit()
    click.echo(f"{days:,} days counted in {time.perf_counter() - started:.1f} s")


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run each job once and exit (for cron or tests).")
@with_appcontext
def scheduler_command(once: bool) -> None:
    """Run the scheduler: escalation sweep, outbox relay, heartbeat. Never inside web workers."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    followed = os.environ.get("REFERRALS_TEST_CLOCK_FILE")
    if followed and runtime().settings.environment == "test":
        clock.follow(Path(followed))  # a test moves this process's clock
    if once:
        taken, sent = scheduler.run_once(app)
        click.echo(f"escalation steps taken: {taken}; e-mails sent: {sent}")
        return
    settings = runtime().settings
    click.echo(
        f"scheduler {scheduler.worker_name()}: sweep every {settings.sweep_seconds}s, "
        f"relay every {settings.relay_seconds}s, SMTP {settings.mail.host}:"
        f"{settings.mail.port}"
    )
    try:
        scheduler.build(app).start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped")


@click.command("mailcatcher")
@click.option("--port", default=8025, show_default=True)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write each message (default: INSTANCE/mail).",
)
@with_appcontext
def mailcatcher_command(port: int, folder: Path | None) -> None:
    """A local SMTP server for development: every e-mail is saved as a .eml file."""
    target = folder or Path(current_app.instance_path) / "mail"
    controller = mailcatcher.start(target, port=port)
    click.echo(f"mail catcher on 127.0.0.1:{port}, saving e-mails to {target}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


def register(app: Flask) -> None:
    for group in (users_cli, intake_cli, audit_cli, demo_cli, keys_cli, backup_cli, reports_cli):
        app.cli.add_command(group)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(mailcatcher_command)
